"""`mikan players`: the roster with key status, never a key; .env is honoured."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROSTER = """
[players.claude]
provider = "anthropic"
model = "claude-x"
api_key_env = "MIKAN_CLI_TEST_KEY"

[players.local]
provider = "openai"
base_url = "http://127.0.0.1:9/v1"
model = "m"
"""


def run(args: list[str], cwd: Path, env_extra: dict[str, str] | None = None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIKAN_")}
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_players_json_reports_key_status_from_dotenv(tmp_path: Path) -> None:
    (tmp_path / "mikan.toml").write_text(ROSTER)
    proc = run(["players", "--json"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    rows = {r["key"]: r for r in json.loads(proc.stdout)["players"]}
    assert rows["claude"]["key_configured"] is False
    assert rows["local"]["key_configured"] is True  # needs no key

    secret = "sk-ant-dotenv-SECRET-123"
    (tmp_path / ".env").write_text(f"MIKAN_CLI_TEST_KEY={secret}\n")
    proc = run(["players", "--json"], tmp_path)
    rows = {r["key"]: r for r in json.loads(proc.stdout)["players"]}
    assert rows["claude"]["key_configured"] is True
    assert secret not in proc.stdout and secret not in proc.stderr
    table = run(["players"], tmp_path)
    assert table.returncode == 0 and "claude" in table.stdout and secret not in table.stdout


def test_players_config_errors_are_clear(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[players.x]\nprovider = "nope"\n')
    proc = run(["players", "--config", str(bad)], tmp_path)
    assert proc.returncode == 2
    assert "player 'x': unknown provider 'nope'" in proc.stderr
    proc = run(["players"], tmp_path, {"MIKAN_CONFIG": str(tmp_path / "missing.toml")})
    assert proc.returncode == 2 and "does not exist" in proc.stderr


def test_builtin_roster_without_a_file(tmp_path: Path) -> None:
    proc = run(["players", "--json"], tmp_path)
    out = json.loads(proc.stdout)
    assert out["source"] == "built-in"
    assert {r["key"] for r in out["players"]} == {"mikan", "kinkan"}
