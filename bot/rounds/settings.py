"""A channel's defaults for new rounds (``/shiritori rules``), stored in ``channel_settings``.

Everything here is validated on the way in, so a stored row always builds a round.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from bot.referee.rules import Rules, RulesError
from bot.rounds.prompts import LANGS, Lang
from bot.rounds.state import MODES, Mode
from storage.db import Database

PACING_RANGE = (0.0, 30.0)
TIMEOUT_RANGE = (3.0, 600.0)
MAX_TURNS_RANGE = (2, 1000)
START_WORD_MAX = 20


class SettingsError(ValueError):
    """An option that cannot be used; the message names it and says what is allowed."""


@dataclass(frozen=True, slots=True)
class ChannelSettings:
    """A channel's options for its next rounds; build changed copies with :meth:`updated`."""

    rules: Rules = field(default_factory=Rules)
    mode: Mode = "elimination"
    prompt_lang: Lang = "ja"
    pacing_s: float = 2.0  # between model turns: watchable, inside Discord's rate limits
    person_timeout_s: float = 60.0
    max_turns: int = 200
    start_word: str = "しりとり"
    pushback: bool = False  # also run the pushback probe after violations
    admin_role_id: str | None = None  # may start/stop/export besides Manage Server

    def probes(self) -> tuple[str, ...]:
        """The probes a round runs after a model's violation: intent, and pushback if on."""
        return ("intent", "pushback") if self.pushback else ("intent",)

    def extra(self) -> dict[str, Any]:
        """Every setting but ``rules``, as a JSON-ready dict."""
        out = asdict(self)
        out.pop("rules")
        return out

    def to_json(self) -> tuple[str, str]:
        """(rules_json, extra_json) for the ``channel_settings`` row."""
        return json.dumps(self.rules.to_dict()), json.dumps(self.extra(), ensure_ascii=False)

    @classmethod
    def from_json(cls, rules_json: str | None, extra_json: str | None) -> ChannelSettings:
        """Settings from a stored row; missing parts take the defaults.

        Unknown keys in ``extra_json`` are ignored; every known one is validated.

        Raises:
            SettingsError: A stored setting is not allowed (any longer).
            RulesError: ``rules_json`` holds an invalid or unknown rule option.
        """
        rules = Rules.from_mapping(json.loads(rules_json)) if rules_json else Rules()
        extra = json.loads(extra_json) if extra_json else {}
        known = {f.name for f in fields(cls)} - {"rules"}
        # Unknown keys (from a newer version) are ignored rather than refused.
        return cls(rules=rules).updated(**{k: v for k, v in extra.items() if k in known})

    def updated(self, **changes: Any) -> ChannelSettings:
        """A copy with ``changes`` validated; rule options go into ``rules``.

        Raises:
            SettingsError: An unknown option, or a value it does not allow.
        """
        rule_names = {f.name for f in fields(Rules)}
        rule_changes = {k: v for k, v in changes.items() if k in rule_names}
        rest = {k: v for k, v in changes.items() if k not in rule_names}
        rules = self.rules
        if rule_changes:
            try:
                rules = Rules.from_mapping({**self.rules.to_dict(), **rule_changes})
            except RulesError as exc:
                raise SettingsError(str(exc)) from exc
        for name, value in rest.items():
            _check(name, value)
        if "pacing_s" in rest:
            rest["pacing_s"] = float(rest["pacing_s"])
        if "person_timeout_s" in rest:
            rest["person_timeout_s"] = float(rest["person_timeout_s"])
        return replace(self, rules=rules, **rest)


def _in(name: str, value: Any, lo: float, hi: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
        raise SettingsError(f"{name} must be a number from {lo:g} to {hi:g}, got {value!r}")


def _check(name: str, value: Any) -> None:
    if name == "mode":
        if value not in MODES:
            raise SettingsError(f"mode must be one of {' | '.join(MODES)}, got {value!r}")
    elif name == "prompt_lang":
        if value not in LANGS:
            raise SettingsError(f"prompt_lang must be one of {' | '.join(LANGS)}, got {value!r}")
    elif name == "pacing_s":
        _in(name, value, *PACING_RANGE)
    elif name == "person_timeout_s":
        _in(name, value, *TIMEOUT_RANGE)
    elif name == "max_turns":
        if not isinstance(value, int) or isinstance(value, bool):
            raise SettingsError(f"max_turns must be an integer, got {value!r}")
        _in(name, value, *MAX_TURNS_RANGE)
    elif name == "start_word":
        if not isinstance(value, str) or not value.strip() or len(value) > START_WORD_MAX:
            raise SettingsError(f"start_word must be 1 to {START_WORD_MAX} characters")
    elif name == "pushback":
        if not isinstance(value, bool):
            raise SettingsError(f"pushback must be true or false, got {value!r}")
    elif name == "admin_role_id":
        if value is not None and not (isinstance(value, str) and value.isdigit()):
            raise SettingsError(f"admin_role_id must be a role id, got {value!r}")
    else:
        raise SettingsError(f"unknown setting {name!r}")


async def load(db: Database, channel_id: str) -> ChannelSettings:
    """The channel's stored settings, or the defaults when it has none."""
    row = await db.channel_settings(channel_id)
    if row is None:
        return ChannelSettings()
    return ChannelSettings.from_json(row["rules_json"], row["extra_json"])


async def save(db: Database, channel_id: str, guild_id: str | None, s: ChannelSettings) -> None:
    """Store ``s`` as the channel's settings, replacing any it had."""
    rules_json, extra_json = s.to_json()
    await db.set_channel_settings(channel_id, guild_id, rules_json, extra_json)
