"""The discord.py Bot subclass: opens resources in ``setup_hook``, loads the cogs, resumes.

Modelled on discord.py's ``examples/advanced_startup.py``. Only this module and ``cogs/``
import ``discord``; the round engine knows nothing about it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from dataclasses import dataclass
from typing import Any

import discord
import yarl
from discord import app_commands
from discord.ext import commands
from discord.gateway import DiscordWebSocket

from bot import __version__
from bot.arena import Players, install_stop_handlers
from bot.referee import Referee
from bot.roster import Roster
from bot.watchdog import LoopWatchdog
from storage.db import Database

log = logging.getLogger(__name__)

EXTENSIONS = ("cogs.shiritori", "cogs.admin")
API_BASE_ENV = "MIKAN_DISCORD_API"  # e.g. http://127.0.0.1:8080/api/v10 (tests only)
TOKEN_ENV = "DISCORD_TOKEN"
SHUTDOWN_S = 10.0  # a signal to a closed gateway, database and HTTP client
DISCORD_API = discord.http.Route.BASE
PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    embed_links=True,
    attach_files=True,
    add_reactions=True,
    read_message_history=True,
)

NO_TOKEN_HELP = f"""\
mikan run: no Discord bot token.

Set {TOKEN_ENV} in the environment or in a .env file next to where you run mikan:
  1. https://discord.com/developers/applications -> New Application -> Bot -> Reset Token
  2. on the Bot page, enable the MESSAGE CONTENT privileged intent
  3. echo '{TOKEN_ENV}=...' >> .env
  4. invite it with the scopes "bot applications.commands" (README: "Run it in Discord")
  5. mikan sync   (registers the slash commands; once, and after upgrades)

To play without Discord: mikan console (you against the models) or mikan arena.
"""


def intents() -> discord.Intents:
    """Guilds, guild messages and message content (people play by typing words)."""
    out = discord.Intents.none()
    out.guilds = True
    out.guild_messages = True
    out.message_content = True
    return out


def apply_api_base(value: str | None = None) -> None:
    """Point discord.py's REST (and so, at login, the gateway) at another host.

    Off by default; the end-to-end tests set ``MIKAN_DISCORD_API`` to a loopback Discord."""
    base = value if value is not None else os.environ.get(API_BASE_ENV)
    if base:
        discord.http.Route.BASE = base.rstrip("/")


@dataclass(slots=True)
class BotConfig:
    db: str | None = None
    roster: str | None = None
    pacing_s: float | None = None  # overrides every channel's pacing (benchmarks, tests)
    sync_only: bool = False  # ``mikan sync``: commands only, no database or players


class MikanTree(app_commands.CommandTree):
    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        # Lazy import: the cog owns the user-facing wording of failures.
        from cogs.replies import answer_error

        await answer_error(interaction, error)


class MikanBot(commands.Bot):
    db: Database
    roster: Roster
    players: Players
    referee: Referee

    def __init__(self, config: BotConfig | None = None) -> None:
        # The bot never joins voice: no warnings about voice libraries it does not need.
        discord.VoiceClient.warn_nacl = False
        discord.VoiceClient.warn_dave = False
        super().__init__(
            command_prefix=commands.when_mentioned,  # unused: slash commands only
            intents=intents(),
            # Nothing the bot sends pings anyone unless a message asks for it explicitly.
            allowed_mentions=discord.AllowedMentions.none(),
            help_command=None,
            tree_cls=MikanTree,
            max_messages=200,
        )
        self.config = config or BotConfig()
        self.referee = Referee()
        self._opened = False

    async def login(self, token: str) -> None:
        await super().login(token)
        if discord.http.Route.BASE != DISCORD_API:  # set by apply_api_base
            # Another API host (the tests' loopback Discord): ask it for its gateway, as
            # the API documents, instead of discord.py's built-in gateway address.
            _, url, _ = await self.http.get_bot_gateway()
            DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)

    async def setup_hook(self) -> None:
        for ext in EXTENSIONS:
            await self.load_extension(ext)
        if self.config.sync_only:
            return
        self.roster = Roster.load(self.config.roster)
        self.db = await Database.open(self.config.db)
        self.players = Players(list(self.roster.players.values()))
        self._opened = True
        # Loading the dictionary takes a second or two: not on the event loop.
        await asyncio.to_thread(self.referee.analyser.warm)
        log.info(
            "mikan %s: database %s, roster %s (%d players)",
            __version__,
            self.db.path,
            self.roster.source,
            len(self.roster.players),
        )
        from cogs.shiritori import Shiritori

        cog = self.get_cog(Shiritori.__cog_name__)
        if isinstance(cog, Shiritori):
            await cog.resume_rounds()

    async def on_message(self, message: discord.Message) -> None:
        return None  # no prefix commands; cogs listen for words themselves

    async def on_ready(self) -> None:
        assert self.user is not None
        log.info("connected as %s (%s) in %d guilds", self.user, self.user.id, len(self.guilds))

    async def close(self) -> None:
        try:
            await super().close()  # unloads the cogs: their round tasks are cancelled
        finally:
            if self._opened:
                self._opened = False
                await self.players.aclose()
                await self.db.close()


async def _offline_tree() -> app_commands.CommandTree:
    """The command tree with every cog loaded, without connecting or opening anything."""
    bot = MikanBot(BotConfig(sync_only=True))
    for ext in EXTENSIONS:
        await bot.load_extension(ext)
    return bot.tree


async def command_tree() -> list[dict[str, Any]]:
    """The slash commands as Discord receives them, built without connecting."""
    tree = await _offline_tree()
    return [cmd.to_dict(tree) for cmd in tree.get_commands()]


def _access(cmd: app_commands.Command[Any, ..., Any]) -> str:
    from cogs.checks import is_owner, is_round_admin

    if "access" in cmd.extras:
        return str(cmd.extras["access"])
    if is_owner in cmd.checks:
        return "bot owner"
    if is_round_admin in cmd.checks:
        return "Manage Server or the admin role"
    return "anyone"


async def commands_markdown() -> str:
    """The README's command table, generated from the tree itself."""
    rows = ["| command | options | who | what |", "|---|---|---|---|"]
    for cmd in (await _offline_tree()).walk_commands():
        if not isinstance(cmd, app_commands.Command):
            continue
        opts = []
        for p in cmd.parameters:
            text = f"`{p.name}`" if p.required else f"`{p.name}`?"
            if p.choices:
                text += " (" + "/".join(str(c.value) for c in p.choices) + ")"
            opts.append(text)
        rows.append(
            f"| `/{cmd.qualified_name}` | {', '.join(opts) or '—'} | {_access(cmd)} | "
            f"{cmd.description} |"
        )
    return "\n".join(rows) + "\n"


async def sync_commands(token: str, guild_id: int | None = None) -> list[str]:
    """Register the slash commands (globally, or in one guild at once). HTTP only."""
    bot = MikanBot(BotConfig(sync_only=True))
    async with bot:
        await bot.login(token)
        guild = discord.Object(id=guild_id) if guild_id else None
        if guild is not None:
            bot.tree.copy_global_to(guild=guild)
        synced = await bot.tree.sync(guild=guild)
        return [c.name for c in synced]


async def run_bot(token: str, config: BotConfig, *, debug: bool = False) -> None:
    """Run until Discord ends the session or SIGINT/SIGTERM asks to stop.

    The signals are handled here, whatever disposition the process inherited (a job
    started in the background of a non-interactive shell ignores SIGINT; supervisors send
    SIGTERM): the bot closes within ``SHUTDOWN_S``, its round tasks cancelled whole, the
    gateway closed, the database and the HTTP client closed."""
    loop = asyncio.get_running_loop()
    watchdog = LoopWatchdog(loop).start() if debug else None
    stop = asyncio.Event()
    remove_handlers = install_stop_handlers(stop)
    bot = MikanBot(config)
    try:
        async with bot:
            running = asyncio.create_task(bot.start(token), name="mikan-bot")
            stopping = asyncio.create_task(stop.wait(), name="mikan-stop")
            await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if not running.done():
                log.info("shutting down (signal)")
                try:
                    await asyncio.wait_for(bot.close(), SHUTDOWN_S)
                except TimeoutError:
                    log.warning("shutdown took over %.0f s; stopping anyway", SHUTDOWN_S)
                running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running
    finally:
        remove_handlers()
        if watchdog is not None:
            watchdog.stop()


def run_main(token: str, config: BotConfig, log_level: str = "INFO", *, debug: bool = False) -> int:
    """``mikan run``: the exit code, with a clear message for the usual mistakes."""
    discord.utils.setup_logging(level=getattr(logging, log_level.upper(), logging.INFO), root=True)
    apply_api_base()
    try:
        asyncio.run(run_bot(token, config, debug=debug))
    except KeyboardInterrupt:
        return 130
    except discord.LoginFailure:
        print(
            f"mikan run: Discord rejected the token ({TOKEN_ENV}); reset it in the "
            "Developer Portal and try again.",
            file=sys.stderr,
        )
        return 2
    except discord.PrivilegedIntentsRequired:
        print(
            "mikan run: enable the MESSAGE CONTENT intent on the bot's page in the "
            "Developer Portal (people play by typing words).",
            file=sys.stderr,
        )
        return 2
    return 0


def sync_main(token: str, guild_id: int | None) -> int:
    apply_api_base()
    try:
        names = asyncio.run(sync_commands(token, guild_id))
    except discord.LoginFailure:
        print(f"mikan sync: Discord rejected the token ({TOKEN_ENV}).", file=sys.stderr)
        return 2
    except discord.HTTPException as exc:
        print(f"mikan sync: Discord refused the commands: {exc}", file=sys.stderr)
        return 1
    where = f"guild {guild_id} (at once)" if guild_id else "globally (may take up to an hour)"
    print(f"synced {', '.join('/' + n for n in names)} {where}")
    return 0
