"""Cog logic through the callbacks with fake interactions, and the channel surface with a
fake channel (no network at all)."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import discord
import pytest

from bot.rounds.events import ProbeRecorded, RoundEnded, SeatInfo, TurnJudged
from cogs import checks
from cogs.replies import NotRoundAdmin
from cogs.shiritori.cog import Shiritori, parse_keys
from cogs.shiritori.presentation import (
    REPLY_PREVIEW,
    needed_permissions,
    summary_embed,
    turn_text,
)
from cogs.shiritori.surface import ChannelSurface


@dataclass
class FakeResponse:
    sent: list[dict[str, Any]] = field(default_factory=list)

    def is_done(self) -> bool:
        return bool(self.sent)

    async def send_message(self, content: str | None = None, **kwargs: Any) -> None:
        self.sent.append({"content": content, **kwargs})


@dataclass
class FakeInteraction:
    permissions: discord.Permissions
    channel_id: int = 1
    guild_id: int | None = 10
    user: Any = field(default_factory=lambda: SimpleNamespace(id=5, display_name="someone"))
    response: FakeResponse = field(default_factory=FakeResponse)
    client: Any = None


class FakeDB:
    def __init__(self, row: dict[str, Any] | None = None) -> None:
        self.row = row

    async def channel_settings(self, channel_id: str) -> dict[str, Any] | None:
        return self.row


async def test_manage_server_passes_the_admin_check() -> None:
    fake = FakeInteraction(discord.Permissions(manage_guild=True))
    assert await checks.is_round_admin(fake)  # type: ignore[arg-type]


async def test_without_manage_server_or_role_the_admin_check_refuses() -> None:
    fake = FakeInteraction(discord.Permissions(send_messages=True))
    fake.client = SimpleNamespace(db=FakeDB(None))
    with pytest.raises(NotRoundAdmin):
        await checks.is_round_admin(fake)  # type: ignore[arg-type]


async def test_status_callback_with_nothing_running() -> None:
    cog = Shiritori(SimpleNamespace())  # type: ignore[arg-type]
    fake = FakeInteraction(discord.Permissions.none())
    await Shiritori.status.callback(cog, fake)  # type: ignore[arg-type]
    (sent,) = fake.response.sent
    assert sent["ephemeral"] is True and "No round here" in sent["content"]
    assert sent["allowed_mentions"].to_dict() == {"parse": []}


def test_parse_keys_and_permissions() -> None:
    assert parse_keys("a, b、c  d") == ["a", "b", "c", "d"]
    assert parse_keys(None) == []
    perms = discord.Permissions(view_channel=True, send_messages=True, embed_links=True)
    missing = needed_permissions(perms, in_thread=False)
    assert missing == [
        "リアクションの追加 (Add Reactions)",
        "メッセージ履歴を読む (Read Message History)",
    ]
    assert "メッセージを送信 (Send Messages)" in needed_permissions(perms, in_thread=True)


SEAT = SeatInfo(0, "GPT <@&123456789012345678>", "model", "gpt")


def judged(**kw: Any) -> TurnJudged:
    base = dict(
        round_id=1,
        idx=0,
        seat=SEAT,
        outcome="accepted",
        raw_text="「林檎」",
        word="林檎",
        reading="りんご",
        reading_source="sudachi",
        violations=(),
        next=("ご",),
        self_flag="none",
    )
    base.update(kw)
    return TurnJudged(**base)  # type: ignore[arg-type]


def test_turn_text_shows_word_reading_verdict_next_and_escapes_the_name() -> None:
    text = turn_text(judged())
    assert text == "**GPT <@\u200b&123456789012345678>** 「林檎」（りんご） ✅ 次は 「ご」"


def test_a_long_reply_is_shortened_for_display() -> None:
    long = "考えます。" * 500 + "「みかん」"
    text = turn_text(
        judged(
            outcome="violation",
            raw_text=long,
            word="みかん",
            reading="みかん",
            violations=("ends_with_n",),
            next=(),
        )
    )
    first, preview = text.split("\n")
    assert first.endswith("❌ 「ん」で終わる (ends in ん)")
    assert preview.startswith("-# 考えます。") and preview.endswith("…")
    assert len(preview) <= REPLY_PREVIEW + 3


def test_summary_embed_counts_violations() -> None:
    other = SeatInfo(1, "Claude", "model", "claude")
    embed = summary_embed(
        RoundEnded(
            3,
            "finished",
            other,
            "last_seat_standing",
            9,
            {SEAT.name: ("ends_with_n", "ends_with_n"), "Claude": ()},
        ),
        (SEAT, other),
    )
    fields = {f.name: f.value for f in embed.fields}
    assert fields["勝者 / Winner"] == "Claude"
    assert "「ん」で終わる (ends in ん) ×2" in fields["反則 / Violations"]
    assert "Claude**: 反則なし" in fields["反則 / Violations"]


class FakeChannel:
    def __init__(self, failures: list[BaseException]) -> None:
        self.failures = failures
        self.sent: list[str | None] = []
        self.id = 42

    async def send(self, content: str | None = None, **kwargs: Any) -> Any:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(content)
        return SimpleNamespace(id=len(self.sent))

    async def typing(self) -> None:
        return None


def http_error(cls: type[discord.HTTPException], status: int) -> discord.HTTPException:
    return cls(SimpleNamespace(status=status, reason="x"), {"message": "x", "code": 0})


async def test_transient_send_failures_are_retried() -> None:
    waits: list[float] = []

    async def sleep(s: float) -> None:
        waits.append(s)

    channel = FakeChannel([http_error(discord.HTTPException, 503), TimeoutError()])
    surface = ChannelSurface(channel, sleep=sleep)  # type: ignore[arg-type]
    await surface.emit(judged())
    assert len(channel.sent) == 1 and len(waits) == 2
    assert surface.sent == [1]


async def test_losing_the_channel_stops_the_round_and_posts_nothing_more() -> None:
    reasons: list[str] = []
    channel = FakeChannel([http_error(discord.Forbidden, 403)])
    surface = ChannelSurface(channel, on_unavailable=reasons.append)  # type: ignore[arg-type]
    await surface.emit(judged())
    await surface.emit(judged(idx=1))
    assert reasons == ["channel unavailable: 403"] and channel.sent == []


async def test_probes_are_never_posted() -> None:
    channel = FakeChannel([])
    surface = ChannelSurface(channel)  # type: ignore[arg-type]
    await surface.emit(ProbeRecorded(1, 0, SEAT, "intent"))
    assert channel.sent == []
