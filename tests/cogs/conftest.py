from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import discord
import pytest

from cogs.client import BotConfig, MikanBot
from cogs.endpoint import apply_api_base
from tests.support.discord_standin import TOKEN, DiscordStandIn
from tests.support.providers import ProviderServer
from tests.support.scenarios import roster_toml


@dataclass
class Harness:
    standin: DiscordStandIn
    provider: ProviderServer
    bot: MikanBot
    task: asyncio.Task[None]
    tmp: Path


@pytest.fixture
async def standin() -> AsyncIterator[DiscordStandIn]:
    server = DiscordStandIn()
    await server.start()
    saved = discord.http.Route.BASE
    apply_api_base(server.base)
    try:
        yield server
    finally:
        discord.http.Route.BASE = saved
        await server.stop()


async def start_bot(
    standin: DiscordStandIn, provider: ProviderServer, tmp: Path, extra_roster: str = ""
) -> Harness:
    roster = tmp / "mikan.toml"
    roster.write_text(roster_toml(provider) + extra_roster, encoding="utf-8")
    bot = MikanBot(BotConfig(db=str(tmp / "mikan.sqlite3"), roster=str(roster), pacing_s=0))
    task = asyncio.create_task(bot.start(TOKEN))
    ready = asyncio.create_task(standin.ready.wait())
    await asyncio.wait({task, ready}, timeout=60, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        ready.cancel()
        await bot.close()
        task.result()  # raises what stopped the bot
    assert ready.done(), "the bot never identified"
    return Harness(standin, provider, bot, task, tmp)


async def stop_bot(h: Harness) -> None:
    await h.bot.close()
    await asyncio.gather(h.task, return_exceptions=True)


@pytest.fixture
async def harness(
    standin: DiscordStandIn, provider_server: ProviderServer, tmp_path: Path
) -> AsyncIterator[Harness]:
    h = await start_bot(standin, provider_server, tmp_path)
    try:
        yield h
    finally:
        await stop_bot(h)
