"""Slash commands through the real CommandTree (payloads from the loopback Discord):
permission checks at run time, every failure an ephemeral message that says what to do."""

from __future__ import annotations

import pytest

from tests.cogs.conftest import Harness
from tests.support import scenarios
from tests.support.discord_standin import (
    ADMIN_ID,
    ADMIN_ROLE_ID,
    BOT_PERMS,
    EPHEMERAL,
    MEMBER_ID,
    PLAYER_ID,
    DiscordStandIn,
)
from tests.support.providers import Reply

SEND_MESSAGES = 1 << 11


async def ephemeral(standin: DiscordStandIn, token: str) -> str:
    reply = await standin.reply(token)
    assert reply["flags"] & EPHEMERAL, reply
    return reply["content"]


def db(h: Harness):  # type: ignore[no-untyped-def]
    return h.tmp / "mikan.sqlite3"


async def test_bot_without_send_permission_does_not_start(harness: Harness) -> None:
    s = harness.standin
    token = await s.command(
        ADMIN_ID, "shiritori start", {"players": "a,b"}, app_permissions=BOT_PERMS & ~SEND_MESSAGES
    )
    text = await ephemeral(s, token)
    assert "Send Messages" in text and "did not start" in text
    assert scenarios.rows(db(harness), "SELECT COUNT(*) FROM rounds") == [(0,)]
    assert s.channel_messages() == []


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"players": "a,zzz"}, "unknown player"),
        ({"players": "a,a"}, "Name each player once"),
        ({"people": 1}, "two or more seats"),
        ({"players": "a"}, "two or more seats"),
    ],
)
async def test_bad_start_options_are_explained(
    harness: Harness, options: dict, expected: str
) -> None:
    token = await harness.standin.command(ADMIN_ID, "shiritori start", options)
    assert expected in await ephemeral(harness.standin, token)
    assert scenarios.rows(db(harness), "SELECT COUNT(*) FROM rounds") == [(0,)]


async def test_unreadable_start_word_is_refused(harness: Harness) -> None:
    token = await harness.standin.command(
        ADMIN_ID, "shiritori start", {"players": "a,b", "start_word": "@@@"}
    )
    assert "start word has no reading" in await ephemeral(harness.standin, token)


async def test_second_round_in_a_busy_channel_is_refused(harness: Harness) -> None:
    s = harness.standin
    harness.provider.script(scenarios.A, Reply(hang=True))
    await s.reply(await s.command(ADMIN_ID, "shiritori start", {"players": "a,b"}))
    await s.wait_for(lambda: harness.provider.seen)
    token = await s.command(ADMIN_ID, "shiritori start", {"players": "a,b"})
    assert "already running" in await ephemeral(s, token)
    status = await ephemeral(s, await s.command(MEMBER_ID, "shiritori status"))
    assert "▶ Model A" in status and "次は 「り」" in status
    stop = await s.command(ADMIN_ID, "shiritori stop")
    assert "Stopping" in (await s.reply(stop))["content"]


async def test_missing_api_key_is_named_not_shown(
    standin: DiscordStandIn,
    provider_server,
    tmp_path,
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    from tests.cogs.conftest import start_bot, stop_bot

    monkeypatch.delenv("MIKAN_TEST_KEY", raising=False)
    extra = (
        '[players.keyed]\nprovider = "openai"\nmodel = "m"\n'
        f'base_url = "{provider_server.base}/k/v1"\napi_key_env = "MIKAN_TEST_KEY"\n'
    )
    h = await start_bot(standin, provider_server, tmp_path, extra)
    try:
        token = await standin.command(ADMIN_ID, "shiritori start", {"players": "a,keyed"})
        text = await ephemeral(standin, token)
        assert "MIKAN_TEST_KEY" in text and "Missing API key" in text
        listing = await ephemeral(standin, await standin.command(MEMBER_ID, "shiritori players"))
        assert "keyed" in listing and "`MIKAN_TEST_KEY` 未設定" in listing
        assert "キー不要" in listing  # the loopback players need no key
    finally:
        await stop_bot(h)


async def test_rules_view_is_open_but_changing_needs_admin(harness: Harness) -> None:
    s = harness.standin
    view = await s.reply(await s.command(MEMBER_ID, "shiritori rules"))
    assert view["flags"] & EPHEMERAL and view["embeds"][0]["title"].endswith("rules")
    token = await s.command(MEMBER_ID, "shiritori rules", {"dakuten": "lenient"})
    assert "Manage Server" in await ephemeral(s, token)
    assert scenarios.rows(db(harness), "SELECT COUNT(*) FROM channel_settings") == [(0,)]
    saved = await s.reply(
        await s.command(ADMIN_ID, "shiritori rules", {"dakuten": "lenient", "pacing_s": 0.5})
    )
    fields = {f["name"]: f["value"] for f in saved["embeds"][0]["fields"]}
    assert fields["dakuten"] == "lenient" and fields["pacing_s"] == "0.5"
    ((rules_json,),) = scenarios.rows(db(harness), "SELECT rules_json FROM channel_settings")
    assert '"dakuten": "lenient"' in rules_json


async def test_admin_role_set_by_rules_may_start(harness: Harness) -> None:
    s = harness.standin
    role = {
        "id": str(ADMIN_ROLE_ID),
        "name": "referee",
        "color": 0,
        "hoist": False,
        "position": 1,
        "permissions": "0",
        "managed": False,
        "mentionable": False,
        "flags": 0,
    }
    token = await s.command(
        ADMIN_ID,
        "shiritori rules",
        {"admin_role": (8, str(ADMIN_ROLE_ID))},
        resolved={"roles": {str(ADMIN_ROLE_ID): role}},
    )
    fields = {f["name"]: f["value"] for f in (await s.reply(token))["embeds"][0]["fields"]}
    assert fields["admin_role"] == f"<@&{ADMIN_ROLE_ID}>"
    refused = await s.command(PLAYER_ID, "shiritori start", {"players": "a,b"})
    assert "Manage Server" in await ephemeral(s, refused)
    scenarios.script_model_round(harness.provider)
    allowed = await s.command(
        MEMBER_ID, "shiritori start", {"players": "a,b"}, roles=[ADMIN_ROLE_ID]
    )
    assert not (await s.reply(allowed))["flags"] & EPHEMERAL
    await scenarios.summary_posted(s)


async def test_join_and_leave_outside_a_round_are_explained(harness: Harness) -> None:
    s = harness.standin
    assert "No round is recruiting" in await ephemeral(
        s, await s.command(PLAYER_ID, "shiritori join")
    )
    assert "not in a round" in await ephemeral(s, await s.command(PLAYER_ID, "shiritori leave"))
    assert "No round here" in await ephemeral(s, await s.command(ADMIN_ID, "shiritori stop"))


async def test_lobby_join_twice_leave_and_cancel(harness: Harness) -> None:
    s = harness.standin
    await s.reply(await s.command(ADMIN_ID, "shiritori start", {"players": "a", "people": 2}))
    await s.reply(await s.command(PLAYER_ID, "shiritori join"))
    assert "already joined" in await ephemeral(s, await s.command(PLAYER_ID, "shiritori join"))
    status = await ephemeral(s, await s.command(MEMBER_ID, "shiritori status"))
    assert "recruiting" in status and "(1/2)" in status
    assert "left the lobby" in await ephemeral(s, await s.command(PLAYER_ID, "shiritori leave"))
    cancel = await s.reply(await s.command(ADMIN_ID, "shiritori stop"))
    assert "cancelled" in cancel["content"]
    assert scenarios.rows(db(harness), "SELECT COUNT(*) FROM rounds") == [(0,)]


async def test_a_person_leaves_mid_round(harness: Harness) -> None:
    s = harness.standin
    harness.provider.script(scenarios.A, scenarios.ok("「りんご」"))
    await s.reply(await s.command(ADMIN_ID, "shiritori start", {"players": "a", "people": 1}))
    await s.reply(await s.command(PLAYER_ID, "shiritori join"))
    await s.wait_for(lambda: any("の番です" in t for t in scenarios.texts(s.channel_messages())))
    assert "leave the round" in await ephemeral(s, await s.command(PLAYER_ID, "shiritori leave"))
    messages = await scenarios.summary_posted(s)
    assert "🚪 **player** が抜けました (left the round)" in scenarios.texts(messages)
    assert scenarios.rows(db(harness), "SELECT outcome FROM turns ORDER BY idx") == [
        ("accepted",),
        ("left",),
    ]
    assert scenarios.rows(
        db(harness), "SELECT status, out_reason FROM seats ORDER BY position"
    ) == [
        ("playing", None),
        ("left", "left"),
    ]


async def test_silent_person_times_out(harness: Harness) -> None:
    await scenarios.person_times_out(harness.standin, harness.provider, db(harness))


async def test_mikan_sync_is_for_the_owner_only(harness: Harness) -> None:
    s = harness.standin
    refused = await s.command(MEMBER_ID, "mikan sync", permissions=1 << 3)  # even an admin
    assert "Only the bot's owner" in await ephemeral(s, refused)
    assert not s.find("PUT", "/commands")
    token = await s.command(ADMIN_ID, "mikan sync", {"here": True})  # owns the application
    assert "commands synced" in await ephemeral(s, token)
    names = [c["name"] for c in s.commands["guild:700000000000000100"]]
    assert names == ["shiritori", "mikan"]


def test_exports_too_big_for_one_message_are_zipped_or_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from cogs.shiritori.presentation import attachable

    for name in ("turns.csv", "calls.csv"):
        (tmp_path / name).write_text("しりとり,り\n" * 2000, encoding="utf-8")
    size = sum(p.stat().st_size for p in tmp_path.iterdir())
    assert [p.name for p in attachable(tmp_path, size)] == ["calls.csv", "turns.csv"]
    zipped = attachable(tmp_path, size - 1)
    assert zipped is not None and [p.name for p in zipped] == ["mikan-export.zip"]
    assert attachable(tmp_path, 100) is None
