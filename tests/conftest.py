"""Shared fixtures: one loopback model server for the whole session."""

from __future__ import annotations

import pytest

from tests.sse_server import SSEServer


@pytest.fixture(scope="session")
def sse_server():
    with SSEServer() as server:
        yield server


@pytest.fixture
def server(sse_server):
    """The session's server with its request records cleared."""
    sse_server.reset()
    return sse_server
