from __future__ import annotations

import pytest

from bot.rounds.settings import ChannelSettings, SettingsError


def test_defaults_and_round_trip() -> None:
    s = ChannelSettings().updated(
        dakuten="lenient", pacing_s=1, pushback=True, admin_role_id="123456789012345678"
    )
    assert (
        s.rules.dakuten == "lenient"
        and s.pacing_s == 1.0
        and s.probes()
        == (
            "intent",
            "pushback",
        )
    )
    assert ChannelSettings.from_json(*s.to_json()) == s
    assert ChannelSettings().pacing_s == 2.0 and ChannelSettings().probes() == ("intent",)


def test_unknown_stored_keys_are_ignored() -> None:
    rules_json, _ = ChannelSettings().to_json()
    assert ChannelSettings.from_json(
        rules_json, '{"future_option": 1, "mode": "sudden_death"}'
    ) == ChannelSettings(mode="sudden_death")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"mode": "battle"}, "mode must be one of"),
        ({"pacing_s": 31}, "pacing_s must be a number from 0 to 30"),
        ({"person_timeout_s": 1}, "person_timeout_s must be a number from 3 to 600"),
        ({"max_turns": 2.5}, "max_turns must be an integer"),
        ({"start_word": ""}, "start_word must be 1 to 20"),
        ({"admin_role_id": "@everyone"}, "admin_role_id must be a role id"),
        ({"dakuten": "loose"}, "dakuten must be one of strict | lenient"),
        ({"colour": "red"}, "unknown setting"),
    ],
)
def test_bad_values_name_the_option(changes: dict, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        ChannelSettings().updated(**changes)
