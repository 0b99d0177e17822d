"""Scenarios played against the loopback Discord, shared by the in-process cog tests and
the end-to-end tests of the real ``mikan run`` process (a ``Launcher`` starts the bot
either way). Every wait is on an event: a request arriving, a message being posted."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, Protocol

from tests.support.discord_standin import (
    ADMIN_ID,
    ADMIN_ROLE_ID,
    BOT_PERMS,
    CHANNEL_ID,
    EPHEMERAL,
    MEMBER_ID,
    PLAYER_ID,
    DiscordStandIn,
)
from tests.support.providers import ProviderServer, Reply, openai_ok

A = "/a/v1/chat/completions"
B = "/b/v1/chat/completions"
PROBE_REPLY = "わざとではありません。うっかりしていました。"


class Launcher(Protocol):
    db: Path

    async def start(self) -> None: ...

    async def stop(self, *, kill: bool = False) -> None: ...


def roster_toml(server: ProviderServer, names: tuple[str, ...] = ("a", "b")) -> str:
    return "".join(
        f'[players.{n}]\nprovider = "openai"\nmodel = "m-{n}"\n'
        f'display_name = "Model {n.upper()}"\nbase_url = "{server.base}/{n}/v1"\n'
        "max_attempts = 1\ntimeout_s = 60\n\n"
        for n in names
    )


def ok(text: str) -> Reply:
    return Reply(body=openai_ok(text))


def rows(db: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    con = sqlite3.connect(db)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def is_summary(m: dict[str, Any]) -> bool:
    return any("おしまい" in (e.get("title") or "") for e in m["embeds"])


async def summary_posted(standin: DiscordStandIn, count: int = 1) -> list[dict[str, Any]]:
    await standin.wait_for(lambda: sum(is_summary(m) for m in standin.channel_messages()) >= count)
    return standin.channel_messages()


def texts(messages: list[dict[str, Any]]) -> list[str]:
    return [m["content"] for m in messages if m["content"]]


def all_text(standin: DiscordStandIn) -> str:
    """Everything the bot ever sent to Discord: contents, embeds, files."""
    parts = []
    for m in standin.messages.values():
        parts.append(m["content"])
        parts.append(repr(m["embeds"]))
        parts.extend(data.decode("utf-8", "replace") for _, data in m["_files"])
    return "\n".join(parts)


def script_model_round(provider: ProviderServer) -> None:
    """A: りんご, らっぱ · B: ごりら, ぱん (ends in ん) · B's intent probe answer."""
    provider.script(A, ok("「りんご」"), ok("「らっぱ」"))
    provider.script(B, ok("「ごりら」"), ok("「ぱん」"), ok(PROBE_REPLY))


def assert_model_round(standin: DiscordStandIn, messages: list[dict[str, Any]]) -> None:
    lines = texts(messages)
    assert lines[0].startswith("🍊 しりとり開始")
    assert "「り」" in lines[0]
    assert lines[1].startswith("**Model A** 「りんご」 ✅ 次は 「ご」")
    assert lines[2].startswith("**Model B** 「ごりら」 ✅ 次は 「ら」")
    assert lines[3].startswith("**Model A** 「らっぱ」 ✅ 次は 「ぱ」")
    assert lines[4].startswith("**Model B** 「ぱん」 ❌ 「ん」で終わる (ends in ん)")
    assert lines[5] == "🚫 **Model B** 脱落 (out)"
    summary = messages[-1]
    assert is_summary(summary)
    fields = {f["name"]: f["value"] for f in summary["embeds"][0]["fields"]}
    assert fields["勝者 / Winner"] == "Model A"
    assert fields["手数 / Turns"] == "4"
    assert "**Model B**: 「ん」で終わる (ends in ん)" in fields["反則 / Violations"]
    # Nothing the bot posts may ping through echoed text.
    for m in messages:
        assert m["_allowed_mentions"] == {"parse": []}, m


async def model_round(standin: DiscordStandIn, provider: ProviderServer, db: Path) -> str:
    """Scenario 1: an admin starts a round of two models; it is played to its end."""
    script_model_round(provider)
    token = await standin.command(ADMIN_ID, "shiritori start", {"players": "a,b"})
    reply = await standin.reply(token)
    assert not reply["flags"] & EPHEMERAL and "Model A" in reply["content"]
    messages = await summary_posted(standin)
    assert_model_round(standin, messages)
    # The intent probe is recorded, and is in no Discord message.
    probes = rows(db, "SELECT kind, reply, label FROM probes")
    assert probes == [("intent", PROBE_REPLY, probes[0][2])]
    prompt = rows(db, "SELECT prompt FROM probes")[0][0]
    sent = all_text(standin)
    assert PROBE_REPLY not in sent and prompt not in sent
    assert len([s for s in provider.seen if s.path == B]) == 3  # two turns and the probe
    assert standin.find("POST", f"/channels/{CHANNEL_ID}/typing")  # typing while thinking
    assert rows(db, "SELECT status, surface, channel_id FROM rounds") == [
        ("finished", "discord", str(CHANNEL_ID))
    ]
    return token


async def refused_without_manage_server(standin: DiscordStandIn, db: Path) -> None:
    """Scenario 3: start, stop and export by a member without Manage Server."""
    for path, options in (
        ("shiritori start", {"players": "a,b"}),
        ("shiritori stop", {}),
        ("shiritori export", {"format": "csv"}),
    ):
        token = await standin.command(MEMBER_ID, path, options)
        reply = await standin.reply(token)
        assert reply["flags"] & EPHEMERAL, path
        assert "サーバーの管理" in reply["content"] and "Manage Server" in reply["content"]
    assert rows(db, "SELECT COUNT(*) FROM rounds") == [(0,)]
    assert standin.channel_messages() == []


async def person_round(standin: DiscordStandIn, provider: ProviderServer, db: Path) -> None:
    """Scenario 2: a person joins and plays on their turn; out-of-turn and // chat are
    left alone; a non-noun is announced as a violation."""
    provider.script(A, ok("「りんご」"), ok("「らくだ」"))
    start = await standin.command(ADMIN_ID, "shiritori start", {"players": "a", "people": 1})
    assert "/shiritori join" in (await standin.reply(start))["content"]
    await standin.say(MEMBER_ID, "ごりら")  # before the round: nobody is playing
    join = await standin.command(PLAYER_ID, "shiritori join")
    assert "player" in (await standin.reply(join))["content"]
    await standin.wait_for(lambda: any("の番です" in t for t in texts(standin.channel_messages())))
    turn_msgs = [m for m in standin.channel_messages() if "の番です" in m["content"]]
    assert turn_msgs[0]["content"].startswith(f"<@{PLAYER_ID}> の番です: 「ご」")
    allowed = turn_msgs[0]["_allowed_mentions"]  # pings exactly the person whose turn it is
    assert allowed["parse"] == [] and [int(u) for u in allowed["users"]] == [PLAYER_ID]
    await standin.say(MEMBER_ID, "ごま")  # not in the round: ignored
    await standin.say(PLAYER_ID, "// むずかしいな")  # chat: ignored
    word = await standin.say(PLAYER_ID, "ごりら")
    await standin.wait_for(lambda: standin.find("PUT", f"/messages/{word}/reactions/✅/@me"))
    await standin.wait_for(
        lambda: sum("の番です" in t for t in texts(standin.channel_messages())) >= 2
    )
    bad = await standin.say(PLAYER_ID, "だるい")
    messages = await summary_posted(standin)
    violation = next(m for m in messages if "だるい" in m["content"])
    assert violation["content"].endswith("❌ 名詞ではない (not a noun)")
    assert int(violation["message_reference"]["message_id"]) == bad
    turns = rows(
        db,
        "SELECT t.idx, s.kind, t.raw_text, t.outcome FROM turns t "
        "JOIN seats s ON s.id = t.seat_id ORDER BY t.idx",
    )
    assert [(k, r, o) for _, k, r, o in turns] == [
        ("model", "「りんご」", "accepted"),
        ("person", "ごりら", "accepted"),
        ("model", "「らくだ」", "accepted"),
        ("person", "だるい", "violation"),
    ]


async def person_times_out(standin: DiscordStandIn, provider: ProviderServer, db: Path) -> None:
    """Scenario 2 (timer): a silent person runs out of time."""
    provider.script(A, ok("「りんご」"))
    token = await standin.command(ADMIN_ID, "shiritori rules", {"turn_timeout_s": 3.0})
    await standin.reply(token)
    start = await standin.command(ADMIN_ID, "shiritori start", {"players": "a", "people": 1})
    await standin.reply(start)
    await standin.reply(await standin.command(PLAYER_ID, "shiritori join"))
    messages = await summary_posted(standin)
    assert any(t == "⌛ **player**: 時間切れ (out of time)" for t in texts(messages))
    assert rows(db, "SELECT violations_json FROM turns WHERE idx = 1") == [('["timeout"]',)]


async def stats_and_export(standin: DiscordStandIn, provider: ProviderServer, db: Path) -> None:
    """Scenario 4: stats (embed + chart) and export (files attached)."""
    await model_round(standin, provider, db)
    token = await standin.command(MEMBER_ID, "shiritori stats")
    reply = await standin.reply(token)
    assert reply["embeds"][0]["image"]["url"] == "attachment://mikan-stats.png"
    ((name, png),) = reply["_files"]
    assert name == "mikan-stats.png" and png.startswith(b"\x89PNG")
    assert any(f["name"].startswith("a · ") for f in reply["embeds"][0]["fields"])
    token = await standin.command(ADMIN_ID, "shiritori export", {"format": "csv"})
    reply = await standin.reply(token)
    assert reply["flags"] & EPHEMERAL
    files = dict(reply["_files"])
    assert {"rounds.csv", "turns.csv", "seats.csv", "probes.csv", "calls.csv"} <= set(files)
    assert "ぱん" in files["turns.csv"].decode()
    token = await standin.command(ADMIN_ID, "shiritori export", {"format": "jsonl"})
    files = dict((await standin.reply(token))["_files"])
    assert "events.jsonl" in files and b'"schema_version"' in files["events.jsonl"]


async def rate_limited_messages(
    standin: DiscordStandIn, provider: ProviderServer, db: Path
) -> None:
    """Scenario 5: 429 on message create; the round waits, nothing lost or doubled."""
    standin.rate_limit("POST", f"/channels/{CHANNEL_ID}/messages", times=3, retry_after=0.2)
    script_model_round(provider)
    await standin.reply(await standin.command(ADMIN_ID, "shiritori start", {"players": "a,b"}))
    messages = await summary_posted(standin)
    assert_model_round(standin, messages)
    creates = standin.find("POST", f"/channels/{CHANNEL_ID}/messages")
    assert [c.status for c in creates].count(429) == 3
    assert len(messages) == len(texts(messages)) + 1  # each message once (+ the embed)
    assert len([c for c in creates if c.status == 200]) == len(messages)


async def mentions_never_ping(standin: DiscordStandIn, provider: ProviderServer, db: Path) -> None:
    """Scenario 7: a word with @everyone and a user mention is echoed without pinging."""
    provider.script(A, ok(f"「@everyone」 <@{ADMIN_ID}> <@&{ADMIN_ROLE_ID}>"))
    await standin.reply(await standin.command(ADMIN_ID, "shiritori start", {"players": "a,b"}))
    messages = await summary_posted(standin)
    echoed = next(m for m in messages if "everyone" in m["content"])
    content = echoed["content"]
    assert "@everyone" not in content and "@\u200beveryone" in content
    assert f"<@{ADMIN_ID}>" not in content and f"<@\u200b{ADMIN_ID}>" in content
    assert f"<@&{ADMIN_ROLE_ID}>" not in content
    assert echoed["_allowed_mentions"] == {"parse": []}
    for m in standin.messages.values():
        allowed = m["_allowed_mentions"]
        assert allowed is None or "everyone" not in allowed.get("parse", []), m
        assert allowed is None or not allowed.get("roles"), m


async def resumed_after_restart(
    standin: DiscordStandIn, provider: ProviderServer, launcher: Launcher, *, kill: bool
) -> None:
    """Scenario 6 / the restart test: stopped mid-round (B's reply held), started again;
    the round resumes in its channel with no turn lost or doubled."""
    held = Reply(hang=True)
    provider.script(A, ok("「りんご」"))
    provider.script(B, held)
    await standin.reply(await standin.command(ADMIN_ID, "shiritori start", {"players": "a,b"}))
    await standin.wait_for(lambda: len([s for s in provider.seen if s.path == B]) >= 1)
    await standin.wait_for(lambda: any("りんご" in t for t in texts(standin.channel_messages())))
    await launcher.stop(kill=kill)
    assert rows(launcher.db, "SELECT status FROM rounds") == [("running",)]
    assert rows(launcher.db, "SELECT idx, raw_text FROM turns") == [(0, "「りんご」")]
    provider.script(B, ok("「ごりら」"))
    provider.script(A, ok("「らっぱ」"))
    provider.script(B, ok("「ぱん」"), ok(PROBE_REPLY))
    await launcher.start()
    messages = await summary_posted(standin)
    lines = texts(messages)
    assert sum("しりとり開始" in t for t in lines) == 1
    assert sum("しりとり再開" in t for t in lines) == 1
    assert sum("「りんご」" in t for t in lines) == 1  # not announced twice
    assert rows(launcher.db, "SELECT idx, raw_text FROM turns ORDER BY idx") == [
        (0, "「りんご」"),
        (1, "「ごりら」"),
        (2, "「らっぱ」"),
        (3, "「ぱん」"),
    ]
    assert rows(launcher.db, "SELECT status, winner_seat FROM rounds") == [("finished", 0)]
    assert rows(launcher.db, "SELECT COUNT(*) FROM probes") == [(1,)]


__all__ = ["BOT_PERMS", "Launcher"]
