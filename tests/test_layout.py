"""The arrows point one way: who may import whom, checked on every import in the tree.

docs/ARCHITECTURE.md draws the layers; this test reads each module's imports (top level
and inside functions alike) with ``ast`` and fails on any that points the wrong way.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Package prefix -> prefixes its modules must never import (``discord`` is checked apart).
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "storage": ("bot", "cogs"),
    "bot.referee": ("bot.players", "bot.rounds", "bot.research", "bot.surfaces", "storage"),
    "bot.players": ("bot.rounds", "bot.research", "bot.surfaces", "storage"),
    "bot.rounds": ("bot.research", "bot.surfaces"),
    "bot.research": ("bot.players", "bot.rounds", "bot.surfaces"),
    "bot.surfaces": (),
    "bot": ("cogs",),  # the whole core: nothing of the Discord layer
}
SUBPACKAGES = ("referee", "players", "rounds", "research", "surfaces")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> list[str]:
    """Every module this file imports, absolute, wherever the import statement is."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
            found.extend(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _sources(*tops: str) -> list[Path]:
    return sorted(p for top in tops for p in (ROOT / top).rglob("*.py"))


def _rule_for(module: str) -> tuple[str, tuple[str, ...]]:
    best = max((p for p in FORBIDDEN if _within(module, p)), key=len)
    # A subpackage's rule adds to the core's (nothing in bot imports cogs).
    return best, FORBIDDEN[best] + (FORBIDDEN["bot"] if best != "bot" else ())


@pytest.mark.parametrize("path", _sources("bot", "storage"), ids=lambda p: _module_name(p))
def test_core_and_storage_import_only_downwards(path: Path) -> None:
    module = _module_name(path)
    _, forbidden = _rule_for(module)
    wrong = [
        name
        for name in _imports(path)
        if any(_within(name, f) for f in forbidden) and not _within(name, module)
    ]
    assert wrong == [], f"{module} imports {wrong}: see docs/ARCHITECTURE.md"


def test_only_the_discord_layer_imports_discord() -> None:
    offenders = [
        _module_name(p)
        for p in _sources("bot", "storage")
        if any(_within(n, "discord") for n in _imports(p))
    ]
    assert offenders == []


def test_the_cogs_never_import_the_client() -> None:
    # The cogs see the bot through cogs.host.Host; the client loads them by name.
    offenders = [
        _module_name(p)
        for p in _sources("cogs")
        if p.name != "client.py" and any(_within(n, "cogs.client") for n in _imports(p))
    ]
    assert offenders == []


def test_every_package_says_what_it_holds_and_may_import() -> None:
    packages = [ROOT / "bot" / s for s in SUBPACKAGES] + [ROOT / "cogs", ROOT / "storage"]
    for package in packages:
        doc = ast.get_docstring(ast.parse((package / "__init__.py").read_text(encoding="utf-8")))
        assert doc and "May import" in doc, f"{package.name}/__init__.py: say what it may import"


def test_the_rule_table_catches_a_wrong_arrow(tmp_path: Path) -> None:
    # The checker itself: an upward import in a referee module is reported.
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from bot.rounds.engine import RoundEngine\n", encoding="utf-8")
    _, forbidden = _rule_for("bot.referee.probe")
    assert any(_within(n, f) for n in _imports(probe) for f in forbidden)
