"""A loopback Discord: enough of API v10 and the gateway for this bot, on 127.0.0.1.

Speaks the documented wire format: ``GET /gateway/bot``; the gateway websocket (HELLO,
IDENTIFY, heartbeats and ACKs, READY, GUILD_CREATE with a guild's channels, roles and
members, RESUME/RESUMED; zlib-stream compression when the client asks for it); dispatch
of ``MESSAGE_CREATE`` and ``INTERACTION_CREATE``; the REST routes the bot calls (messages
as JSON or multipart with attachments, reactions, typing, interaction callbacks and
follow-ups, command bulk overwrite). Every call is recorded for assertions, and a route
can be told to answer 429 with Discord's real headers. A test utility, not product code.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import urllib.parse
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import WSMsgType, web

TOKEN = "standin-bot-token.NOT.A.SECRET"
API = "/api/v10"

# Snowflakes long enough (17+ digits) to be mention-shaped in text.
APP_ID = 700000000000000001
GUILD_ID = 700000000000000100
CHANNEL_ID = 700000000000000200
OTHER_CHANNEL_ID = 700000000000000201
ADMIN_ROLE_ID = 700000000000000300
ADMIN_ID = 700000000000000401  # owns the guild and the application: Manage Server
MEMBER_ID = 700000000000000402  # an ordinary member
PLAYER_ID = 700000000000000403  # another ordinary member

EVERYONE_PERMS = (1 << 10) | (1 << 11) | (1 << 6) | (1 << 14) | (1 << 15) | (1 << 16)
MANAGE_GUILD = 1 << 5
ADMINISTRATOR = 1 << 3
BOT_PERMS = EVERYONE_PERMS | (1 << 13)
EPHEMERAL = 1 << 6


def now_ts() -> str:
    return datetime.now(UTC).isoformat()


def user(uid: int, name: str, *, bot: bool = False) -> dict[str, Any]:
    return {
        "id": str(uid),
        "username": name,
        "global_name": name,
        "discriminator": "0",
        "avatar": None,
        "bot": bot,
        "public_flags": 0,
    }


USERS = {
    APP_ID: user(APP_ID, "Mikan", bot=True),
    ADMIN_ID: user(ADMIN_ID, "admin"),
    MEMBER_ID: user(MEMBER_ID, "member"),
    PLAYER_ID: user(PLAYER_ID, "player"),
}


@dataclass
class Call:
    method: str
    path: str  # without the /api/v10 prefix
    query: dict[str, str]
    json: Any
    files: list[tuple[str, bytes]]
    headers: dict[str, str]
    at: float  # time.monotonic() when the request arrived
    status: int = 0


@dataclass
class RateLimit:
    method: str
    pattern: str  # a path prefix/suffix test, e.g. "/messages"
    remaining: int
    retry_after: float
    bucket: str = "a1b2c3d4e5f6"


@dataclass
class Connection:
    ws: web.WebSocketResponse
    compress: Any | None
    session_id: str = ""
    identified: bool = False
    closed: asyncio.Event = field(default_factory=asyncio.Event)


class DiscordStandIn:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.messages: dict[int, dict[str, Any]] = {}  # id -> message object
        self.identifies: list[dict[str, Any]] = []
        self.resumes: list[dict[str, Any]] = []
        self.heartbeats = 0
        self.closes: list[int | None] = []  # each gateway connection's close code, in order
        self.commands: dict[str, list[dict[str, Any]]] = {}  # scope -> registered commands
        self.rate_limits: list[RateLimit] = []
        self._ids = itertools.count(800000000000000000)
        self._seq = 0
        self._history: list[dict[str, Any]] = []  # dispatched events, for RESUME
        self._conn: Connection | None = None
        self._token_channel: dict[str, int] = {}
        self._changed = asyncio.Condition()
        self.ready = asyncio.Event()  # READY and GUILD_CREATE sent on the current session
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.heartbeat_interval_ms = 41250

    # -- lifecycle ----------------------------------------------------------------------
    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}{API}"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", API + "/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._conn is not None:
            await self._conn.ws.close()
        if self._runner:
            await self._runner.cleanup()

    def next_id(self) -> int:
        return next(self._ids)

    # -- waiting on events (never on the clock) -----------------------------------------
    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_for(self, predicate: Callable[[], Any], limit_s: float = 60) -> Any:
        """Wait until ``predicate()`` is truthy (re-checked on every call and dispatch)."""

        async def waiter() -> Any:
            async with self._changed:
                while True:
                    value = predicate()
                    if value:
                        return value
                    await self._changed.wait()

        return await asyncio.wait_for(waiter(), limit_s)

    # -- the world ------------------------------------------------------------------------
    def member(self, uid: int, roles: list[int] | None = None) -> dict[str, Any]:
        return {
            "user": USERS[uid],
            "roles": [str(r) for r in roles or []],
            "joined_at": "2026-01-01T00:00:00+00:00",
            "deaf": False,
            "mute": False,
            "flags": 0,
            "nick": None,
        }

    def channel(self, cid: int) -> dict[str, Any]:
        return {
            "id": str(cid),
            "type": 0,
            "guild_id": str(GUILD_ID),
            "name": "shiritori" if cid == CHANNEL_ID else "other",
            "position": 0 if cid == CHANNEL_ID else 1,
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": None,
            "topic": None,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "flags": 0,
        }

    def guild(self) -> dict[str, Any]:
        role = {
            "color": 0,
            "hoist": False,
            "managed": False,
            "mentionable": False,
            "flags": 0,
            "icon": None,
            "unicode_emoji": None,
        }
        return {
            "id": str(GUILD_ID),
            "name": "Mikan test server",
            "icon": None,
            "owner_id": str(ADMIN_ID),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 1,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "vanity_url_code": None,
            "description": None,
            "banner": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": "ja",
            "public_updates_channel_id": None,
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
            "features": [],
            "roles": [
                {
                    **role,
                    "id": str(GUILD_ID),
                    "name": "@everyone",
                    "position": 0,
                    "permissions": str(EVERYONE_PERMS),
                },
                {
                    **role,
                    "id": str(ADMIN_ROLE_ID),
                    "name": "referee",
                    "position": 1,
                    "permissions": str(EVERYONE_PERMS),
                },
            ],
            "emojis": [],
            "stickers": [],
            "joined_at": "2026-01-01T00:00:00+00:00",
            "large": False,
            "unavailable": False,
            "member_count": 4,
            "voice_states": [],
            "members": [self.member(uid) for uid in USERS],
            "channels": [self.channel(CHANNEL_ID), self.channel(OTHER_CHANNEL_ID)],
            "threads": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }

    # -- the gateway ----------------------------------------------------------------------
    async def _send(self, conn: Connection, payload: dict[str, Any]) -> None:
        data = json.dumps(payload, ensure_ascii=False)
        if conn.compress is not None:
            chunk = conn.compress.compress(data.encode()) + conn.compress.flush(zlib.Z_SYNC_FLUSH)
            await conn.ws.send_bytes(chunk)
        else:
            await conn.ws.send_str(data)

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send a DISPATCH (op 0) on the live session; kept for a RESUME."""
        self._seq += 1
        payload = {"op": 0, "t": event, "s": self._seq, "d": data}
        self._history.append(payload)
        conn = self._conn
        if conn is not None and conn.identified and not conn.ws.closed:
            await self._send(conn, payload)
        await self._notify()

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        kind = request.query.get("compress")
        if kind not in (None, "zlib-stream"):
            await ws.close(code=4000, message=b"unsupported compression")
            return ws
        conn = Connection(ws, zlib.compressobj() if kind == "zlib-stream" else None)
        await self._send(conn, {"op": 10, "d": {"heartbeat_interval": self.heartbeat_interval_ms}})
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                frame = json.loads(msg.data)
                await self._on_frame(conn, frame)
        finally:
            self.closes.append(ws.close_code)
            conn.closed.set()
            if self._conn is conn:
                self._conn = None
                self.ready.clear()
            await self._notify()
        return ws

    async def _on_frame(self, conn: Connection, frame: dict[str, Any]) -> None:
        op, d = frame.get("op"), frame.get("d")
        if op == 1:  # heartbeat
            self.heartbeats += 1
            await self._send(conn, {"op": 11})
        elif op == 2:  # identify
            if d.get("token") != TOKEN:
                await conn.ws.close(code=4004, message=b"Authentication failed.")
                return
            self.identifies.append(d)
            conn.session_id = f"session-{len(self.identifies)}"
            conn.identified = True
            self._conn = conn
            self._history.clear()
            self._seq = 0
            await self.dispatch(
                "READY",
                {
                    "v": 10,
                    "user": {**USERS[APP_ID], "verified": True, "mfa_enabled": False, "flags": 0},
                    "guilds": [{"id": str(GUILD_ID), "unavailable": True}],
                    "session_id": conn.session_id,
                    "resume_gateway_url": self.gateway_url,
                    "shard": [0, 1],
                    "application": {"id": str(APP_ID), "flags": 1 << 19},
                    "private_channels": [],
                    "presences": [],
                    "relationships": [],
                    "guild_join_requests": [],
                    "geo_ordered_rtc_regions": [],
                    "user_settings": {},
                },
            )
            await self.dispatch("GUILD_CREATE", self.guild())
            self.ready.set()
            await self._notify()
        elif op == 6:  # resume: replay what the session missed
            self.resumes.append(d)
            conn.identified = True
            conn.session_id = d.get("session_id", "")
            self._conn = conn
            for payload in self._history:
                if payload["s"] > (d.get("seq") or 0):
                    await self._send(conn, payload)
            self._seq += 1
            await self._send(conn, {"op": 0, "t": "RESUMED", "s": self._seq, "d": {}})
            self.ready.set()
            await self._notify()

    async def drop_connection(self) -> None:
        """Close the gateway socket as Discord does before asking a client to resume."""
        if self._conn is not None:
            await self._conn.ws.close(code=4000, message=b"Unknown error")

    # -- what tests send ------------------------------------------------------------------
    async def say(self, uid: int, content: str, channel_id: int = CHANNEL_ID) -> int:
        """A member types a message (MESSAGE_CREATE); returns its id."""
        mid = self.next_id()
        await self.dispatch(
            "MESSAGE_CREATE",
            {
                "id": str(mid),
                "channel_id": str(channel_id),
                "guild_id": str(GUILD_ID),
                "author": USERS[uid],
                "member": {k: v for k, v in self.member(uid).items() if k != "user"},
                "content": content,
                "timestamp": now_ts(),
                "edited_timestamp": None,
                "tts": False,
                "mention_everyone": "@everyone" in content,
                "mentions": [],
                "mention_roles": [],
                "attachments": [],
                "embeds": [],
                "pinned": False,
                "type": 0,
                "flags": 0,
                "components": [],
            },
        )
        return mid

    async def command(
        self,
        uid: int,
        path: str,
        options: dict[str, Any] | None = None,
        *,
        channel_id: int = CHANNEL_ID,
        permissions: int | None = None,
        app_permissions: int = BOT_PERMS,
        roles: list[int] | None = None,
        resolved: dict[str, Any] | None = None,
    ) -> str:
        """A member runs ``/group sub`` (INTERACTION_CREATE); returns the interaction token."""
        group, _, sub = path.partition(" ")
        if permissions is None:
            permissions = EVERYONE_PERMS | (MANAGE_GUILD if uid == ADMIN_ID else 0)
        typed = {bool: 5, int: 4, str: 3, float: 10}
        opts = []
        for k, v in (options or {}).items():
            if isinstance(v, tuple):  # (option type, value), e.g. (8, role id) for a role
                opts.append({"name": k, "type": v[0], "value": v[1]})
            elif v is not None:
                opts.append({"name": k, "type": typed[type(v)], "value": v})
        data: dict[str, Any] = {"id": str(self.next_id()), "name": group, "type": 1}
        data["options"] = [{"name": sub, "type": 1, "options": opts}] if sub else opts
        if resolved:
            data["resolved"] = resolved
        iid = self.next_id()
        token = f"interaction-token-{iid}"
        self._token_channel[token] = channel_id
        await self.dispatch(
            "INTERACTION_CREATE",
            {
                "id": str(iid),
                "application_id": str(APP_ID),
                "type": 2,
                "token": token,
                "version": 1,
                "guild_id": str(GUILD_ID),
                "channel_id": str(channel_id),
                "channel": self.channel(channel_id),
                "member": {**self.member(uid, roles), "permissions": str(permissions)},
                "app_permissions": str(app_permissions),
                "locale": "ja",
                "guild_locale": "ja",
                "entitlements": [],
                "authorizing_integration_owners": {"0": str(GUILD_ID)},
                "context": 0,
                "attachment_size_limit": 10 * 1024 * 1024,
                "data": data,
            },
        )
        return token

    # -- what the bot sent ----------------------------------------------------------------
    def channel_messages(self, channel_id: int = CHANNEL_ID) -> list[dict[str, Any]]:
        """Messages the bot created in a channel, in order (interaction replies excluded)."""
        return [
            m
            for m in self.messages.values()
            if m["channel_id"] == str(channel_id) and not m["_token"]
        ]

    def replies(self, token: str) -> list[dict[str, Any]]:
        """The interaction's callback message and follow-ups, in order."""
        return [m for m in self.messages.values() if m["_token"] == token]

    async def reply(self, token: str, limit_s: float = 60) -> dict[str, Any]:
        """The first reply to an interaction that says something (waits for it)."""

        def said() -> dict[str, Any] | None:
            for m in self.replies(token):
                if m["content"] or m["embeds"] or m["_files"]:
                    return m
            return None

        return await self.wait_for(said, limit_s)

    def callbacks(self, token: str) -> list[Call]:
        return [c for c in self.calls if c.path.endswith(f"/{token}/callback")]

    def find(self, method: str, fragment: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and fragment in c.path]

    def rate_limit(
        self, method: str, pattern: str, times: int = 1, retry_after: float = 0.05
    ) -> None:
        self.rate_limits.append(RateLimit(method, pattern, times, retry_after))

    # -- REST -----------------------------------------------------------------------------
    async def _body(self, request: web.Request) -> tuple[Any, list[tuple[str, bytes]]]:
        ctype = request.headers.get("Content-Type", "")
        if ctype.startswith("multipart/form-data"):
            payload, files = None, []
            reader = await request.multipart()
            async for part in reader:
                if part.name == "payload_json":
                    payload = json.loads(await part.text())
                else:
                    files.append((part.filename or part.name or "", await part.read()))
            return payload, files
        raw = await request.read()
        return (json.loads(raw) if raw else None), []

    def _headers(self) -> dict[str, str]:
        return {
            "x-ratelimit-limit": "5",
            "x-ratelimit-remaining": "4",
            "x-ratelimit-reset": f"{time.time() + 5:.3f}",
            "x-ratelimit-reset-after": "5.000",
            "x-ratelimit-bucket": "f00dfacecafe",
        }

    def _make_message(
        self,
        channel_id: str,
        payload: dict[str, Any],
        files: list[tuple[str, bytes]],
        *,
        token: str | None = None,
    ) -> dict[str, Any]:
        mid = self.next_id()
        attachments = [
            {
                "id": str(self.next_id()),
                "filename": name,
                "size": len(data),
                "url": f"https://cdn.invalid/{mid}/{name}",
                "proxy_url": f"https://cdn.invalid/{mid}/{name}",
                "content_type": "application/octet-stream",
            }
            for name, data in files
        ]
        message = {
            "id": str(mid),
            "channel_id": channel_id,
            "guild_id": str(GUILD_ID),
            "author": USERS[APP_ID],
            "content": payload.get("content") or "",
            "timestamp": now_ts(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": attachments,
            "embeds": payload.get("embeds") or [],
            "pinned": False,
            "type": 0,
            "flags": payload.get("flags") or 0,
            "components": [],
            # Underscored keys are kept for assertions; Discord's object has none of them.
            "_allowed_mentions": payload.get("allowed_mentions"),
            "_files": files,
            "_token": token,
        }
        if payload.get("message_reference"):
            message["message_reference"] = {
                "type": 0,
                "guild_id": str(GUILD_ID),
                "channel_id": channel_id,
                **payload["message_reference"],
            }
        self.messages[mid] = message
        return message

    @staticmethod
    def _public(message: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in message.items() if not k.startswith("_")}

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = request.path[len(API) :]
        payload, files = await self._body(request)
        call = Call(
            request.method,
            urllib.parse.unquote(path),
            dict(request.query),
            payload,
            files,
            dict(request.headers),
            time.monotonic(),
        )
        self.calls.append(call)
        try:
            response = await self._route(request.method, path, call)
            call.status = response.status
            return response
        finally:
            await self._notify()

    def _json(self, body: Any, status: int = 200) -> web.Response:
        # Exactly "application/json", as Discord sends it (discord.py compares it whole).
        return web.Response(
            body=json.dumps(body, ensure_ascii=False).encode(),
            status=status,
            headers={**self._headers(), "Content-Type": "application/json"},
        )

    async def _route(self, method: str, path: str, call: Call) -> web.Response:
        for limit in self.rate_limits:
            if limit.remaining > 0 and method == limit.method and limit.pattern in path:
                limit.remaining -= 1
                headers = {
                    "retry-after": f"{limit.retry_after:.3f}",
                    "x-ratelimit-limit": "5",
                    "x-ratelimit-remaining": "0",
                    "x-ratelimit-reset": f"{time.time() + limit.retry_after:.3f}",
                    "x-ratelimit-reset-after": f"{limit.retry_after:.3f}",
                    "x-ratelimit-bucket": limit.bucket,
                    "x-ratelimit-scope": "user",
                }
                body = {
                    "message": "You are being rate limited.",
                    "retry_after": limit.retry_after,
                    "global": False,
                    "code": 0,
                }
                return web.Response(
                    body=json.dumps(body).encode(),
                    status=429,
                    headers={**headers, "Content-Type": "application/json"},
                )
        parts = path.strip("/").split("/")
        webhook = parts[0] in ("webhooks", "interactions")
        if not webhook and call.headers.get("Authorization") != f"Bot {TOKEN}":
            return self._json({"message": "401: Unauthorized", "code": 0}, 401)
        if method == "GET" and path == "/gateway/bot":
            return self._json(
                {
                    "url": self.gateway_url,
                    "shards": 1,
                    "session_start_limit": {
                        "total": 1000,
                        "remaining": 999,
                        "reset_after": 0,
                        "max_concurrency": 1,
                    },
                }
            )
        if method == "GET" and path == "/users/@me":
            return self._json(USERS[APP_ID])
        if method == "GET" and path == "/oauth2/applications/@me":
            return self._json(
                {
                    "id": str(APP_ID),
                    "name": "Mikan",
                    "description": "",
                    "icon": None,
                    "bot_public": False,
                    "bot_require_code_grant": False,
                    "owner": USERS[ADMIN_ID],
                    "team": None,
                    "verify_key": "0" * 64,
                    "flags": 1 << 19,
                    "summary": "",
                }
            )
        if parts[0] == "applications" and parts[-1] == "commands":
            scope = "global" if len(parts) == 3 else f"guild:{parts[3]}"
            if method == "PUT":
                registered = [
                    {
                        **c,
                        "id": str(self.next_id()),
                        "application_id": str(APP_ID),
                        "version": "1",
                        "default_member_permissions": c.get("default_member_permissions"),
                    }
                    for c in call.json or []
                ]
                self.commands[scope] = registered
                return self._json(registered)
            return self._json(self.commands.get(scope, []))
        if parts[0] == "channels" and len(parts) >= 2:
            cid = parts[1]
            if method == "POST" and parts[2:] == ["messages"]:
                message = self._make_message(cid, call.json or {}, call.files)
                await self.dispatch("MESSAGE_CREATE", self._public(message))
                return self._json(self._public(message))
            if method == "POST" and parts[2:] == ["typing"]:
                return web.Response(status=204, headers=self._headers())
            if method == "PUT" and len(parts) == 7 and parts[4] == "reactions":
                return web.Response(status=204, headers=self._headers())
            if method == "GET" and len(parts) == 2:
                return self._json(self.channel(int(cid)))
            if method in ("GET", "PATCH") and len(parts) == 4 and parts[2] == "messages":
                message = self.messages.get(int(parts[3]))
                if message is None:
                    return self._json({"message": "Unknown Message", "code": 10008}, 404)
                if method == "PATCH":
                    message.update({k: v for k, v in (call.json or {}).items()})
                return self._json(self._public(message))
        if parts[0] == "interactions" and parts[-1] == "callback":
            return self._callback(parts[1], parts[2], call)
        if parts[0] == "webhooks" and len(parts) >= 3:
            token = parts[2]
            if method == "POST" and len(parts) == 3:
                cid = str(self._token_channel.get(token, CHANNEL_ID))
                message = self._make_message(cid, call.json or {}, call.files, token=token)
                return self._json(self._public(message))
            if len(parts) == 5 and parts[3] == "messages":
                mine = self.replies(token)
                if not mine:
                    return self._json({"message": "Unknown Message", "code": 10008}, 404)
                if method == "PATCH":
                    mine[0].update({k: v for k, v in (call.json or {}).items()})
                    mine[0]["_files"] = mine[0]["_files"] + call.files
                return self._json(self._public(mine[0]))
        return self._json({"message": "404: Not Found", "code": 0}, 404)

    def _callback(self, iid: str, token: str, call: Call) -> web.Response:
        body = call.json or {}
        kind = body.get("type")
        data = body.get("data") or {}
        if kind == 8:  # autocomplete result: no message
            return web.Response(status=204, headers=self._headers())
        message = None
        if kind in (4, 5):
            flags = data.get("flags") or 0
            cid = str(self._token_channel.get(token, CHANNEL_ID))
            message = self._make_message(cid, {**data, "flags": flags}, call.files, token=token)
            message["_deferred"] = kind == 5
        result: dict[str, Any] = {
            "interaction": {
                "id": iid,
                "type": 2,
                "response_message_id": message["id"] if message else None,
                "response_message_loading": kind == 5,
                "response_message_ephemeral": bool(message and message["flags"] & EPHEMERAL),
            },
        }
        if message is not None:
            result["resource"] = {"type": kind, "message": self._public(message)}
        return self._json(result)
