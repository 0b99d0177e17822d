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


@pytest.fixture(autouse=True)
def _fresh_capabilities():
    """Each test starts as a fresh process: no parameter learnt as unsupported."""
    from bot.players import capabilities

    capabilities.forget_all()
    yield
    capabilities.forget_all()
