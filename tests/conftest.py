from __future__ import annotations

import pytest

from tests.support.providers import ProviderServer


@pytest.fixture
async def provider_server():
    server = ProviderServer()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture(scope="session", autouse=True)
def jmdict_index() -> None:
    """Build the JMdict index once, before any test or subprocess needs it.

    In a fresh cache (CI) the first build takes a few seconds; every ``mikan`` process the
    tests start then opens the built index instead of building its own.
    """
    from bot.referee.readings import default_analyser

    default_analyser().jmdict.warm()


@pytest.fixture(autouse=True)
def _fresh_capabilities():
    """Each test starts as a fresh process: no parameter learnt as unsupported."""
    from bot.players import capabilities

    capabilities.forget_all()
    yield
    capabilities.forget_all()
