"""Rounds in a channel, through the real CommandTree: the bot runs in-process against the
loopback Discord (tests/support/discord_standin.py) and loopback model providers."""

from __future__ import annotations

from pathlib import Path

from tests.cogs.conftest import Harness, start_bot, stop_bot
from tests.support import scenarios
from tests.support.discord_standin import DiscordStandIn
from tests.support.providers import ProviderServer


async def test_round_from_start_to_summary(harness: Harness) -> None:
    await scenarios.model_round(harness.standin, harness.provider, harness.tmp / "mikan.sqlite3")


async def test_members_without_manage_server_cannot_start_stop_or_export(
    harness: Harness,
) -> None:
    await scenarios.refused_without_manage_server(harness.standin, harness.tmp / "mikan.sqlite3")


async def test_a_person_plays_on_their_turn(harness: Harness) -> None:
    await scenarios.person_round(harness.standin, harness.provider, harness.tmp / "mikan.sqlite3")


async def test_echoed_mentions_never_ping(harness: Harness) -> None:
    await scenarios.mentions_never_ping(
        harness.standin, harness.provider, harness.tmp / "mikan.sqlite3"
    )


async def test_rate_limited_message_create_waits(harness: Harness) -> None:
    await scenarios.rate_limited_messages(
        harness.standin, harness.provider, harness.tmp / "mikan.sqlite3"
    )


async def test_stats_and_export_attach_files(harness: Harness) -> None:
    await scenarios.stats_and_export(
        harness.standin, harness.provider, harness.tmp / "mikan.sqlite3"
    )


class InProcess:
    """Starts and stops an in-process bot on the same database (a restart)."""

    def __init__(self, standin: DiscordStandIn, provider: ProviderServer, tmp: Path) -> None:
        self.standin, self.provider, self.tmp = standin, provider, tmp
        self.db = tmp / "mikan.sqlite3"
        self.h: Harness | None = None

    async def start(self) -> None:
        self.h = await start_bot(self.standin, self.provider, self.tmp)

    async def stop(self, *, kill: bool = False) -> None:
        assert self.h is not None
        await stop_bot(self.h)
        self.h = None


async def test_restart_mid_round_resumes_in_the_channel(
    standin: DiscordStandIn, provider_server: ProviderServer, tmp_path: Path
) -> None:
    launcher = InProcess(standin, provider_server, tmp_path)
    await launcher.start()
    try:
        await scenarios.resumed_after_restart(standin, provider_server, launcher, kill=False)
    finally:
        if launcher.h is not None:
            await launcher.stop()
