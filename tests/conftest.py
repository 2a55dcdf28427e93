"""Shared fixtures: one loopback model server for the whole session."""

from __future__ import annotations

import pytest

from tests.kernel import Kernel
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


@pytest.fixture(scope="module")
def kernel(sse_server):
    """A real ipykernel with the extension loaded, talking to the session's server."""
    env = {"OPENAI_BASE_URL": sse_server.base_url, "OPENAI_API_KEY": sse_server.api_key}
    with Kernel(env) as k:
        assert k.run("%load_ext streamchat_widget").status == "ok"
        yield k
