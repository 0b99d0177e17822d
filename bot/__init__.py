"""Mikan's core: referee, players, rounds and the command line. No Discord here."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("mikan")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"
