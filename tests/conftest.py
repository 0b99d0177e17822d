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
