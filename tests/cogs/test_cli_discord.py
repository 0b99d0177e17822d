"""``mikan run`` / ``sync`` / ``commands`` on the command line."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from cogs.client import PERMISSIONS, command_tree, commands_markdown
from tests.support.discord_standin import TOKEN, DiscordStandIn

ROOT = Path(__file__).resolve().parents[2]


def mikan(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None):  # type: ignore[no-untyped-def]
    base = {k: v for k, v in os.environ.items() if k not in ("DISCORD_TOKEN", "MIKAN_DISCORD_API")}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        env={**base, **(env or {})},
        cwd=cwd,
        timeout=120,
    )


def test_run_without_a_token_says_how_to_get_one(tmp_path: Path) -> None:
    result = mikan("run", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("mikan run: no Discord bot token")
    assert "DISCORD_TOKEN" in result.stderr and "developers/applications" in result.stderr
    assert "mikan console" in result.stderr
    assert not (tmp_path / "mikan.sqlite3").exists()


def test_sync_without_a_token_names_sync(tmp_path: Path) -> None:
    result = mikan("sync", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("mikan sync: no Discord bot token")


def test_commands_json_is_the_tree_discord_receives() -> None:
    result = mikan("commands", "--json")
    assert result.returncode == 0, result.stderr
    tree = json.loads(result.stdout)
    by_name = {c["name"]: c for c in tree}
    subs = {o["name"] for o in by_name["shiritori"]["options"]}
    assert subs == {
        "start",
        "join",
        "leave",
        "status",
        "stop",
        "rules",
        "players",
        "stats",
        "export",
    }
    assert by_name["shiritori"]["dm_permission"] is False  # guild only
    assert by_name["shiritori"]["default_member_permissions"] is None  # join is for anyone
    assert by_name["mikan"]["dm_permission"] is False
    assert int(by_name["mikan"]["default_member_permissions"]) == 8  # administrator
    for cmd in tree:  # Discord's limits: a bad tree is refused at sync time
        for item in [
            cmd,
            *cmd["options"],
            *(o for s in cmd["options"] for o in s.get("options", [])),
        ]:
            assert 1 <= len(item["description"]) <= 100, item["name"]
            assert item["name"] == item["name"].lower() and len(item["name"]) <= 32


def test_readme_command_table_is_generated_from_the_tree() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("<!-- commands:start")
    start = readme.index("\n", start) + 1
    end = readme.index("<!-- commands:end -->")
    assert readme[start:end] == asyncio.run(commands_markdown())
    assert f"permissions={PERMISSIONS.value}" in readme  # the invite URL asks for these


async def test_sync_registers_the_commands(tmp_path: Path) -> None:
    standin = DiscordStandIn()
    await standin.start()
    try:
        env = {"DISCORD_TOKEN": TOKEN, "MIKAN_DISCORD_API": standin.base}
        result = await asyncio.to_thread(
            mikan, "sync", "--guild", "700000000000000100", env=env, cwd=tmp_path
        )
        assert result.returncode == 0, result.stderr
        assert "synced /shiritori, /mikan guild 700000000000000100" in result.stdout
        registered = standin.commands["guild:700000000000000100"]
        assert [c["name"] for c in registered] == [c["name"] for c in await command_tree()]
        put = standin.find("PUT", "/guilds/700000000000000100/commands")
        assert len(put) == 1 and put[0].headers["Authorization"] == f"Bot {TOKEN}"
        bad = await asyncio.to_thread(
            mikan, "sync", env={**env, "DISCORD_TOKEN": "wrong"}, cwd=tmp_path
        )
        assert bad.returncode == 2 and "rejected the token" in bad.stderr
        assert "wrong" not in bad.stderr
    finally:
        await standin.stop()
