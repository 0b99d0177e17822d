from __future__ import annotations

from pathlib import Path

import pytest

from bot.players.roster import Roster, RosterError

ROOT = Path(__file__).resolve().parents[3]


def test_example_file_parses_and_documents_every_field() -> None:
    text = (ROOT / "mikan.example.toml").read_text(encoding="utf-8")
    roster = Roster.parse(text, "mikan.example.toml")
    assert set(roster.players) == {"claude", "gpt", "gemini", "grok", "local", "mikan"}
    assert roster["claude"].provider == "anthropic" and roster["claude"].temperature == 1.0
    assert roster["grok"].url_base == "https://api.x.ai/v1"
    assert roster["gpt"].url_base == "https://api.openai.com/v1"
    from bot.players.roster import _FIELD_TYPES

    for name in _FIELD_TYPES:
        assert f"#   {name}" in text, f"{name} is not documented in mikan.example.toml"


@pytest.mark.parametrize(
    ("toml", "needle"),
    [
        ('[players.a]\nprovider = "openia"\nmodel = "x"', "player 'a': unknown provider 'openia'"),
        (
            '[players.a]\nprovider = "openai"\nmodel = "x"\ncolour = 1',
            "player 'a': unknown field 'colour'",
        ),
        (
            '[players.a]\nprovider = "openai"\nmodel = "x"\ntemperature = "hot"',
            "player 'a': field 'temperature'",
        ),
        (
            '[players.a]\nprovider = "openai"\nmodel = "x"\ntemperature = 5',
            "player 'a': field 'temperature'",
        ),
        (
            '[players.a]\nprovider = "openai"\nmodel = "x"\nlogprobs = 1',
            "player 'a': field 'logprobs'",
        ),
        (
            '[players.a]\nprovider = "openai"\nmodel = "x"\nmax_concurrency = 0',
            "field 'max_concurrency'",
        ),
        ('[players.a]\nprovider = "openai"\nmodel = "x"\nseed = true', "field 'seed'"),
        ('[players.a]\nprovider = "openai"', "player 'a': field 'model' is missing"),
        ('[players.a]\nmodel = "x"', "player 'a': field 'provider' is missing"),
        ("[players.a\nprovider=", "not valid TOML"),
        ("[other]\nx = 1", "unknown top-level"),
        ("", "no players"),
        ("players = 3", "no players"),
        ("[players]\na = 3", "player 'a': must be a table"),
    ],
)
def test_bad_rosters_name_the_player_and_field(toml: str, needle: str) -> None:
    with pytest.raises(RosterError) as err:
        Roster.parse(toml)
    assert needle in str(err.value)


def test_load_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MIKAN_CONFIG", raising=False)
    # no file anywhere: the built-in offline pair
    assert set(Roster.load().players) == {"mikan", "kinkan"}
    (tmp_path / "mikan.toml").write_text('[players.x]\nprovider = "offline"\n')
    assert set(Roster.load().players) == {"x"}
    other = tmp_path / "other.toml"
    other.write_text('[players.y]\nprovider = "offline"\n')
    monkeypatch.setenv("MIKAN_CONFIG", str(other))
    assert set(Roster.load().players) == {"y"}
    assert set(Roster.load(tmp_path / "mikan.toml").players) == {"x"}
    with pytest.raises(RosterError, match="does not exist"):
        Roster.load(tmp_path / "missing.toml")


def test_select_checks_keys_without_revealing_them(monkeypatch: pytest.MonkeyPatch) -> None:
    roster = Roster.parse(
        '[players.a]\nprovider = "openai"\nmodel = "m"\napi_key_env = "MIKAN_T_KEY"\n'
        '[players.b]\nprovider = "offline"\n'
    )
    monkeypatch.delenv("MIKAN_T_KEY", raising=False)
    with pytest.raises(RosterError, match="player 'a': field 'api_key_env' names MIKAN_T_KEY"):
        roster.select(["a", "b"])
    with pytest.raises(RosterError, match="unknown player 'c'"):
        roster.select(["c"])
    monkeypatch.setenv("MIKAN_T_KEY", "sk-very-secret")
    assert [c.key for c in roster.select(["a", "b"])] == ["a", "b"]
    assert roster["a"].key_configured() and roster["a"].api_key() == "sk-very-secret"
    assert "sk-very-secret" not in repr(roster) and "sk-very-secret" not in str(
        roster["a"].public()
    )
