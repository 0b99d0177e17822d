"""The roster: which model players exist, from a TOML file (``mikan.example.toml``).

Keys are never in the file: a player names the environment variable that holds its
key (``api_key_env``), and the key is read from the environment (or ``.env``, loaded
at start-up) at call time. Nothing here stores, logs or returns a key's value, except
:meth:`PlayerConfig.api_key`, which adapters call to build a request header.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

PROVIDERS = ("openai", "anthropic", "gemini", "offline")
DEFAULT_BASE_URLS = {
    "openai": "https://api.openai.com/v1",
    "anthropic": "https://api.anthropic.com",
    "gemini": "https://generativelanguage.googleapis.com",
    "offline": "",
}
DEFAULT_CONFIG = "mikan.toml"
DEFAULT_MAX_RESPONSE_BYTES = 4 * 1024 * 1024
# The current version of the Messages API (docs.anthropic.com/en/api/versioning lists
# 2023-06-01 as the latest); a player may set another with ``anthropic_version``.
DEFAULT_ANTHROPIC_VERSION = "2023-06-01"
# Temperature each provider documents as valid (Anthropic 0-1, OpenAI and Gemini 0-2).
TEMPERATURE_RANGES = {"openai": (0.0, 2.0), "anthropic": (0.0, 1.0), "gemini": (0.0, 2.0)}


class RosterError(ValueError):
    """A roster that cannot be used; the message names the player and the field."""


@dataclass(frozen=True, slots=True)
class PlayerConfig:
    """One roster entry (``[players.KEY]``).

    :func:`parse_player` checks the values; the constructor does not.
    """

    key: str
    provider: str  # one of PROVIDERS
    model: str = ""  # required except for the offline player
    base_url: str = ""  # "" for the provider's default (see url_base)
    api_key_env: str | None = None  # the variable holding the key; None: no key sent
    temperature: float | None = None  # None: not sent
    seed: int | None = None  # None: not sent; seeds the offline player
    max_tokens: int | None = None  # None: not sent (Anthropic sends DEFAULT_MAX_TOKENS)
    timeout_s: float = 60.0  # per attempt, the whole exchange
    logprobs: bool = False
    top_logprobs: int | None = None
    max_concurrency: int = 4  # calls at once, per adapter
    display_name: str = ""
    max_attempts: int = 4
    retry_total_s: float = 120.0  # no attempt starts this long or more after the first
    mikan_pull: float = 0.3  # offline only: how often it reaches for a ん-word
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES  # a longer body fails too_large
    prompt_cache: bool = True  # ask for prompt caching where the provider takes it
    pace: bool = True  # wait for room under the provider's announced rate limits
    requests_per_minute: float | None = None  # a known limit the provider does not send
    tokens_per_minute: float | None = None
    anthropic_version: str = DEFAULT_ANTHROPIC_VERSION  # the anthropic-version header
    # Prices per million tokens, for the statistics' cost estimate (never fetched).
    price_input: float | None = None
    price_cached_input: float | None = None
    price_cache_write: float | None = None
    price_output: float | None = None  # visible and reasoning tokens alike

    @property
    def name(self) -> str:
        """What people see: ``display_name``, else the key."""
        return self.display_name or self.key

    @property
    def wants_logprobs(self) -> bool:
        """Whether to ask for logprobs: ``logprobs`` set, or ``top_logprobs`` non-zero."""
        return self.logprobs or bool(self.top_logprobs)

    @property
    def url_base(self) -> str:
        """``base_url``, else the provider's default, with no trailing slash."""
        return (self.base_url or DEFAULT_BASE_URLS[self.provider]).rstrip("/")

    def prices(self) -> dict[str, float] | None:
        """The prices set, per million tokens by kind (``input``, ``cached_input``,
        ``cache_write``, ``output``), or None when none is."""
        set_ = {
            kind: value
            for kind in ("input", "cached_input", "cache_write", "output")
            if (value := getattr(self, f"price_{kind}")) is not None
        }
        return set_ or None

    def api_key(self) -> str | None:
        """The key, read now from the environment; None when the player needs none."""
        if not self.api_key_env:
            return None
        return os.environ.get(self.api_key_env) or None

    def key_configured(self) -> bool:
        """True when the player needs no key or its variable is set and non-empty."""
        return not self.api_key_env or bool(os.environ.get(self.api_key_env))

    def public(self) -> dict[str, Any]:
        """Everything but secrets (there are none in the config itself), for records.

        Every field by name, with ``base_url`` replaced by the effective :attr:`url_base`.
        """
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["base_url"] = self.url_base
        return out


# name -> (accepted types, description for errors)
_FIELD_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "provider": ((str,), "a string"),
    "model": ((str,), "a string"),
    "base_url": ((str,), "a string"),
    "api_key_env": ((str,), "the name of an environment variable"),
    "temperature": ((int, float), "a number"),
    "seed": ((int,), "an integer"),
    "max_tokens": ((int,), "a positive integer"),
    "timeout_s": ((int, float), "a positive number of seconds"),
    "logprobs": ((bool,), "true or false"),
    "top_logprobs": ((int,), "an integer from 0 to 20"),
    "max_concurrency": ((int,), "a positive integer"),
    "display_name": ((str,), "a string"),
    "max_attempts": ((int,), "a positive integer"),
    "retry_total_s": ((int, float), "a positive number of seconds"),
    "mikan_pull": ((int, float), "a number from 0 to 1"),
    "max_response_bytes": ((int,), "a positive number of bytes"),
    "anthropic_version": ((str,), "a date string such as 2023-06-01"),
    "prompt_cache": ((bool,), "true or false"),
    "pace": ((bool,), "true or false"),
    "requests_per_minute": ((int, float), "a positive number of requests a minute"),
    "tokens_per_minute": ((int, float), "a positive number of tokens a minute"),
    "price_input": ((int, float), "a price per million tokens (0 or more)"),
    "price_cached_input": ((int, float), "a price per million tokens (0 or more)"),
    "price_cache_write": ((int, float), "a price per million tokens (0 or more)"),
    "price_output": ((int, float), "a price per million tokens (0 or more)"),
}
_FLOATS = frozenset(
    {
        "temperature",
        "timeout_s",
        "retry_total_s",
        "mikan_pull",
        "price_input",
        "price_cached_input",
        "price_cache_write",
        "price_output",
        "requests_per_minute",
        "tokens_per_minute",
    }
)


_AT_LEAST_ONE = frozenset({"max_tokens", "max_concurrency", "max_attempts", "max_response_bytes"})


def _check_field(player: str, name: str, value: Any) -> Any:
    if name not in _FIELD_TYPES:
        known = ", ".join(sorted(_FIELD_TYPES))
        raise RosterError(f"player {player!r}: unknown field {name!r} (known fields: {known})")
    types, what = _FIELD_TYPES[name]
    if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
        raise RosterError(f"player {player!r}: field {name!r} must be {what}, got {value!r}")
    bad = (
        (name in _AT_LEAST_ONE and value < 1)
        or (name.startswith("price_") and value < 0)
        or (
            name in ("timeout_s", "retry_total_s", "requests_per_minute", "tokens_per_minute")
            and value <= 0
        )
        or (name == "top_logprobs" and not 0 <= value <= 20)
        or (name == "mikan_pull" and not 0 <= value <= 1)
        or (name == "provider" and value not in PROVIDERS)
    )
    if bad:
        if name == "provider":
            raise RosterError(
                f"player {player!r}: unknown provider {value!r} (one of {', '.join(PROVIDERS)})"
            )
        raise RosterError(f"player {player!r}: field {name!r} must be {what}, got {value!r}")
    return float(value) if name in _FLOATS else value


def parse_player(key: str, table: Any) -> PlayerConfig:
    """The checked config of player ``key`` from its TOML table.

    Raises:
        RosterError: ``table`` is not a table, lacks ``provider`` (or ``model``, except
            for the offline player), or has an unknown field or a bad value.
    """
    if not isinstance(table, dict):
        raise RosterError(f"player {key!r}: must be a table ([players.{key}])")
    if "provider" not in table:
        raise RosterError(f"player {key!r}: field 'provider' is missing")
    values = {name: _check_field(key, name, value) for name, value in table.items()}
    if values["provider"] != "offline" and not values.get("model"):
        raise RosterError(f"player {key!r}: field 'model' is missing")
    low, high = TEMPERATURE_RANGES.get(values["provider"], (0.0, 2.0))
    temperature = values.get("temperature")
    if temperature is not None and not low <= temperature <= high:
        raise RosterError(
            f"player {key!r}: field 'temperature' must be from {low:g} to {high:g} for "
            f"provider {values['provider']!r}, got {temperature:g}"
        )
    return PlayerConfig(key=key, **values)


@dataclass(frozen=True, slots=True)
class Roster:
    """The players that exist, by key, and where they came from.

    ``roster[key]`` raises RosterError (naming the known keys) for an unknown key.
    """

    players: dict[str, PlayerConfig] = field(default_factory=dict)
    source: str = "built-in"  # the file path, "<string>" or "built-in"

    def __getitem__(self, key: str) -> PlayerConfig:
        try:
            return self.players[key]
        except KeyError:
            known = ", ".join(self.players) or "none"
            raise RosterError(f"unknown player {key!r} (the roster has: {known})") from None

    def select(self, keys: list[str]) -> list[PlayerConfig]:
        """The configs for ``keys``, checking each exists and has its key set.

        Raises:
            RosterError: A key is not in the roster, or its ``api_key_env`` is not set.
        """
        chosen = [self[k] for k in keys]
        for cfg in chosen:
            if not cfg.key_configured():
                raise RosterError(
                    f"player {cfg.key!r}: field 'api_key_env' names {cfg.api_key_env}, "
                    "which is not set in the environment or .env"
                )
        return chosen

    @classmethod
    def builtin(cls) -> Roster:
        """Two offline players, so everything runs with no keys and no file."""
        return cls(
            {
                "mikan": PlayerConfig(
                    "mikan",
                    "offline",
                    model="mikan-offline-1",
                    seed=1,
                    mikan_pull=0.3,
                    display_name="みかんボット",
                ),
                "kinkan": PlayerConfig(
                    "kinkan",
                    "offline",
                    model="mikan-offline-1",
                    seed=2,
                    mikan_pull=0.1,
                    display_name="きんかんボット",
                ),
            }
        )

    @classmethod
    def parse(cls, text: str, source: str = "<string>") -> Roster:
        """The roster in TOML ``text``; ``source`` names it in errors and the result.

        Raises:
            RosterError: Not TOML, a top-level table other than ``players``, no players,
                or a player :func:`parse_player` rejects.
        """
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise RosterError(f"{source}: not valid TOML: {exc}") from exc
        unknown = sorted(set(data) - {"players"})
        if unknown:
            raise RosterError(f"{source}: unknown top-level table(s): {', '.join(unknown)}")
        players = data.get("players", {})
        if not isinstance(players, dict) or not players:
            raise RosterError(f"{source}: no players (add a [players.NAME] table)")
        return cls({k: parse_player(k, v) for k, v in players.items()}, source)

    @classmethod
    def load(cls, path: str | Path | None = None) -> Roster:
        """From ``path``, else ``$MIKAN_CONFIG``, else ``mikan.toml`` if present, else built-in.

        A path given explicitly (argument or environment) must exist.

        Raises:
            RosterError: An explicit path is missing, the file cannot be read, or
                :meth:`parse` rejects it.
        """
        explicit = path or os.environ.get("MIKAN_CONFIG")
        target = Path(explicit) if explicit else Path(DEFAULT_CONFIG)
        if not target.exists():
            if explicit:
                raise RosterError(f"roster file {str(target)!r} does not exist")
            return cls.builtin()
        try:
            text = target.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise RosterError(f"roster file {str(target)!r} cannot be read: {exc}") from exc
        return cls.parse(text, str(target))
