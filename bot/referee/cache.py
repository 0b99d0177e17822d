"""Where the referee keeps what it derives from its dictionaries (built once, reused)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """Where derived data lives: ``$MIKAN_CACHE_DIR``, else the XDG cache directory."""
    explicit = os.environ.get("MIKAN_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mikan"
