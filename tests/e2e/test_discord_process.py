"""The real ``mikan run`` process against a loopback Discord and loopback providers.

Nothing here reaches Discord: ``MIKAN_DISCORD_API`` points the bot at
tests/support/discord_standin.py (REST + gateway on 127.0.0.1), the roster's model
players at tests/support/providers.py. Each test drives the bot as Discord would
(INTERACTION_CREATE and MESSAGE_CREATE over the gateway) and checks what it sent back.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.surfaces.watchdog import DEBUG_ENV
from cogs.client import SHUTDOWN_S
from tests.support import scenarios
from tests.support.discord_standin import TOKEN, DiscordStandIn
from tests.support.providers import ProviderServer

MAX_STALL_S = 10.0  # discord.py's own "heartbeat blocked" threshold


class BotProcess:
    """``python -m bot run`` in a subprocess; start again on the same database = restart."""

    def __init__(self, standin: DiscordStandIn, provider: ProviderServer, tmp: Path) -> None:
        self.standin = standin
        self.tmp = tmp
        self.db = tmp / "mikan.sqlite3"
        self.roster = tmp / "mikan.toml"
        self.roster.write_text(scenarios.roster_toml(provider), encoding="utf-8")
        self.log = tmp / "bot.log"
        self.proc: asyncio.subprocess.Process | None = None
        self.starts = 0

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MIKAN_", "DISCORD_"))}
        if "MIKAN_CACHE_DIR" in os.environ:
            env["MIKAN_CACHE_DIR"] = os.environ["MIKAN_CACHE_DIR"]
        env.update(DISCORD_TOKEN=TOKEN, MIKAN_DISCORD_API=self.standin.base, PYTHONUNBUFFERED="1")
        env[DEBUG_ENV] = "1"  # the loop-stall watchdog logs where the loop is if it blocks
        return env

    async def start(self, *, sigint: signal.Handlers = signal.SIG_DFL) -> None:
        """Start the bot with SIGINT's disposition set (as a shell would hand it down)."""
        self.starts += 1

        def dispose() -> None:
            signal.signal(signal.SIGINT, sigint)

        with self.log.open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "run",
                "--pacing",
                "0",
                "--config",
                str(self.roster),
                "--db",
                str(self.db),
                cwd=self.tmp,
                env=self.env(),
                stdout=log,
                stderr=log,
                preexec_fn=dispose,
            )
        identified = len(self.standin.identifies) + 1
        exited = asyncio.create_task(self.proc.wait())
        ready = asyncio.create_task(
            self.standin.wait_for(
                lambda: len(self.standin.identifies) >= identified and self.standin.ready.is_set(),
                limit_s=120,
            )
        )
        await asyncio.wait({exited, ready}, return_when=asyncio.FIRST_COMPLETED)
        if exited.done():
            ready.cancel()
            raise AssertionError(f"mikan run exited early:\n{self.log.read_text()}")
        exited.cancel()
        await ready

    async def stop(self, *, kill: bool = False, sig: signal.Signals = signal.SIGINT) -> int:
        """Signal the bot and wait for it: a clean stop is bounded by the bot's own deadline."""
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGKILL if kill else sig)
        try:
            code = await asyncio.wait_for(self.proc.wait(), SHUTDOWN_S + 20)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
            raise AssertionError(f"mikan run ignored {sig.name}:\n{self.log.read_text()}") from None
        if not kill:
            assert code == 0, self.log.read_text()
        await self.standin.wait_for(lambda: not self.standin.ready.is_set())
        self.proc = None
        return code


@pytest.fixture
async def standin() -> AsyncIterator[DiscordStandIn]:
    server = DiscordStandIn()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def bot(
    standin: DiscordStandIn, provider_server: ProviderServer, tmp_path: Path
) -> AsyncIterator[BotProcess]:
    process = BotProcess(standin, provider_server, tmp_path)
    await process.start()
    try:
        yield process
    finally:
        if process.proc is not None:
            await process.stop()
        log = process.log.read_text(encoding="utf-8", errors="replace")
        assert TOKEN not in log  # the token never reaches the logs
        assert "Traceback" not in log, log
        # Nothing blocks the bot's loop: the watchdog logs every stall over a second.
        stalls = [float(s) for s in re.findall(r"event loop stalled for ([0-9.]+) s", log)]
        assert all(s < MAX_STALL_S for s in stalls), log


async def test_handshake_intents_and_commands(bot: BotProcess, standin: DiscordStandIn) -> None:
    identify = standin.identifies[0]
    guilds, guild_messages, message_content = 1 << 0, 1 << 9, 1 << 15
    assert identify["intents"] == guilds | guild_messages | message_content
    assert identify["token"] == TOKEN
    first = [(c.method, c.path) for c in standin.calls[:3]]
    assert first == [
        ("GET", "/users/@me"),
        ("GET", "/oauth2/applications/@me"),
        ("GET", "/gateway/bot"),
    ]
    assert not standin.find("PUT", "/commands")  # synced on purpose, never at start
    await standin.wait_for(lambda: standin.heartbeats >= 1)  # acknowledged with op 11


async def test_1_model_round_to_its_end(
    bot: BotProcess, standin: DiscordStandIn, provider_server: ProviderServer
) -> None:
    await scenarios.model_round(standin, provider_server, bot.db)


async def test_2_a_person_plays(
    bot: BotProcess, standin: DiscordStandIn, provider_server: ProviderServer
) -> None:
    await scenarios.person_round(standin, provider_server, bot.db)


async def test_2_a_silent_person_times_out(
    bot: BotProcess, standin: DiscordStandIn, provider_server: ProviderServer
) -> None:
    await scenarios.person_times_out(standin, provider_server, bot.db)


async def test_3_members_without_manage_server_are_refused(
    bot: BotProcess, standin: DiscordStandIn
) -> None:
    await scenarios.refused_without_manage_server(standin, bot.db)


async def test_4_stats_and_export_in_discord(
    bot: BotProcess, standin: DiscordStandIn, provider_server: ProviderServer
) -> None:
    await scenarios.stats_and_export(standin, provider_server, bot.db)
    uploads = [c for c in standin.calls if c.files]
    assert uploads and all(
        c.headers["Content-Type"].startswith("multipart/form-data") for c in uploads
    )


async def test_5_rate_limited_message_create(
    bot: BotProcess, standin: DiscordStandIn, provider_server: ProviderServer
) -> None:
    await scenarios.rate_limited_messages(standin, provider_server, bot.db)


async def test_6_killed_mid_round_and_started_again(
    bot: BotProcess, standin: DiscordStandIn, provider_server: ProviderServer
) -> None:
    await scenarios.resumed_after_restart(standin, provider_server, bot, kill=True)
    assert len(standin.identifies) == 2


async def test_7_mentions_in_words_never_ping(
    bot: BotProcess, standin: DiscordStandIn, provider_server: ProviderServer
) -> None:
    await scenarios.mentions_never_ping(standin, provider_server, bot.db)


async def test_gateway_resume_after_a_dropped_connection(
    bot: BotProcess, standin: DiscordStandIn, provider_server: ProviderServer
) -> None:
    await standin.drop_connection()
    await standin.wait_for(lambda: standin.resumes and standin.ready.is_set())
    assert standin.resumes[0]["session_id"] == "session-1"
    assert len(standin.identifies) == 1  # resumed, not identified again
    await scenarios.model_round(standin, provider_server, bot.db)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_a_signal_stops_the_bot_whatever_it_inherited(
    standin: DiscordStandIn, provider_server: ProviderServer, tmp_path: Path, sig: signal.Signals
) -> None:
    # Started with SIGINT ignored, as a background job of a non-interactive shell is: the
    # bot handles SIGINT and SIGTERM itself, closes the gateway and exits 0.
    process = BotProcess(standin, provider_server, tmp_path)
    await process.start(sigint=signal.SIG_IGN)
    assert await process.stop(sig=sig) == 0
    log = process.log.read_text(encoding="utf-8")
    assert "shutting down (signal)" in log
    assert "Traceback" not in log, log
    # The bot sent a close frame: the session ended cleanly, not by the socket dropping.
    assert len(standin.closes) == 1 and standin.closes[0] not in (None, 1006)


async def test_no_network_is_one_clear_line(tmp_path: Path) -> None:
    # A port nothing listens on stands for a network that is down: no traceback, exit 1.
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again when the block ends
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MIKAN_", "DISCORD_"))}
    env.update(DISCORD_TOKEN=TOKEN, MIKAN_DISCORD_API=f"http://127.0.0.1:{port}/api/v10")
    if "MIKAN_CACHE_DIR" in os.environ:
        env["MIKAN_CACHE_DIR"] = os.environ["MIKAN_CACHE_DIR"]
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(proc.communicate(), 120)
    text = err.decode()
    assert proc.returncode == 1, text
    assert "cannot reach Discord" in text and "Traceback" not in text
    assert TOKEN not in text
