"""The discord.py Bot subclass and the ``mikan run``/``sync``/``commands`` entry points.

Modelled on discord.py's ``examples/advanced_startup.py``: ``setup_hook`` opens the
roster, the database and the players in one exit stack, warms the analyser, then loads
the extensions by name (the shiritori cog resumes rounds in its ``cog_load``). The cogs
see the bot only through ``cogs.host.Host``; nothing in ``cogs`` imports this module.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from dataclasses import dataclass
from typing import Any

import aiohttp
import discord
from discord import app_commands
from discord.ext import commands

from bot import __version__
from bot.players.pool import Players
from bot.players.roster import Roster
from bot.referee.judge import Referee
from bot.surfaces.lifecycle import ShutdownDeadline, install_stop_handlers
from bot.surfaces.watchdog import LoopWatchdog
from cogs.endpoint import apply_api_base, follow_gateway
from storage.db import Database

log = logging.getLogger(__name__)

EXTENSIONS = ("cogs.shiritori", "cogs.admin")  # loaded by name
TOKEN_ENV = "DISCORD_TOKEN"
SHUTDOWN_S = 10.0  # a signal to a closed gateway, database and HTTP client
HARD_STOP_MARGIN_S = 5.0  # then, if anything still hangs, the process exits anyway
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
mikan {{command}}: no Discord bot token.

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


@dataclass(slots=True)
class BotConfig:
    """What ``mikan run`` was given; ``sync_only`` builds the commands and opens nothing."""

    db: str | None = None
    roster: str | None = None
    pacing_s: float | None = None  # overrides every channel's pacing (benchmarks, tests)
    sync_only: bool = False  # ``mikan sync``: commands only, no database or players
    init: bool = False  # ``--init``: an empty file at ``db`` may become the database


class MikanTree(app_commands.CommandTree):
    """The command tree; every failure is answered by ``cogs.replies``."""

    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        """Answer every failed command with a clear ephemeral message."""
        # Lazy import: the cog owns the user-facing wording of failures.
        from cogs.replies import answer_error

        await answer_error(interaction, error)


class MikanBot(commands.Bot):
    """The bot: its resources, opened once in ``setup_hook``, closed once in ``close``."""

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
        self._resources: contextlib.AsyncExitStack | None = None

    @property
    def hosting(self) -> bool:
        """True once the roster, database and players are open (never for ``sync_only``)."""
        return self._resources is not None

    @property
    def pacing_s(self) -> float | None:
        """``--pacing``: seconds between model turns in every channel, if given."""
        return self.config.pacing_s

    async def login(self, token: str) -> None:
        """Log in; on another API host (the loopback tests), use the gateway it names."""
        await super().login(token)
        await follow_gateway(self.http)

    async def setup_hook(self) -> None:
        """Open the resources (all or none), then load the extensions by name."""
        if not self.config.sync_only:
            async with contextlib.AsyncExitStack() as stack:
                self.roster = Roster.load(self.config.roster)
                self.db = await Database.open(self.config.db, init=self.config.init)
                stack.push_async_callback(self.db.close)
                self.players = Players(list(self.roster.players.values()))
                stack.push_async_callback(self.players.aclose)
                # Loading the dictionary takes a second or two: not on the event loop.
                await asyncio.to_thread(self.referee.analyser.warm)
                self._resources = stack.pop_all()  # open from here on; close() closes them
            log.info(
                "mikan %s: database %s, roster %s (%d players)",
                __version__,
                self.db.path,
                self.roster.source,
                len(self.roster.players),
            )
        for ext in EXTENSIONS:
            await self.load_extension(ext)

    async def on_message(self, message: discord.Message) -> None:
        """No prefix commands: the cogs listen for words themselves."""
        return None

    async def on_ready(self) -> None:
        """Log who and where the bot is."""
        assert self.user is not None
        log.info("connected as %s (%s) in %d guilds", self.user, self.user.id, len(self.guilds))

    async def close(self) -> None:
        """Unload the cogs (their round tasks are cancelled), then close the resources."""
        try:
            await super().close()
        finally:
            resources, self._resources = self._resources, None
            if resources is not None:
                await resources.aclose()


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


async def run_bot(
    token: str,
    config: BotConfig,
    *,
    debug: bool = False,
    deadline: ShutdownDeadline | None = None,
) -> None:
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
                if deadline is not None:
                    deadline.start()  # whatever hangs below, the process ends
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
    deadline = ShutdownDeadline(SHUTDOWN_S + HARD_STOP_MARGIN_S)
    try:
        asyncio.run(run_bot(token, config, debug=debug, deadline=deadline))
    except KeyboardInterrupt:
        return 130
    except discord.LoginFailure:
        print(
            f"mikan run: Discord rejected the token ({TOKEN_ENV}); reset it in the "
            "Developer Portal and try again.",
            file=sys.stderr,
        )
        return 2
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        where = discord.http.Route.BASE
        print(
            f"mikan run: cannot reach Discord at {where} ({type(exc).__name__}: "
            f"{' '.join(str(exc).split())}); check the network and try again.",
            file=sys.stderr,
        )
        return 1
    except discord.PrivilegedIntentsRequired:
        print(
            "mikan run: enable the MESSAGE CONTENT intent on the bot's page in the "
            "Developer Portal (people play by typing words).",
            file=sys.stderr,
        )
        return 2
    finally:
        deadline.cancel()
    return 0


def sync_main(token: str, guild_id: int | None) -> int:
    """``mikan sync``: the exit code; the commands synced are printed."""
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
