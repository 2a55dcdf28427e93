"""Where an answer's events come from: a model's endpoint, the offline demo, or a replay.

The answer treats them alike: a label for the badge, a host for the provenance,
a notice to show, the events of a request, and a close. An endpoint that cannot
be opened is a source too, one whose only event is the error that says why.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .endpoint import Endpoint, EndpointError, configured, open_endpoint
from .recording import SESSION, Replayer
from .stream import (
    Event,
    StreamError,
    scrub,
    secrets_of,
    stream_chat,
    unexpected_error,
    whole_characters,
)
from .vocabulary import DEMO, MODEL_ENDPOINT, REPLAY, SourceLabel

DEMO_NOTICE = (
    "No API key or base URL is set, so the offline demo model answered. "
    "Set OPENAI_API_KEY or OPENAI_BASE_URL and choose a model with --model."
)
DEMO_ASKED_NOTICE = "The offline demo model answered at your request; no model was asked."


@dataclass
class Source:
    label: SourceLabel  # the widget's badge and `Reply.source`
    host: str  # for the provenance: host and port, never credentials
    notice: str = ""
    endpoint: Endpoint | None = None
    replayer: Replayer | None = None
    failure: StreamError | None = None

    @property
    def recordable(self) -> bool:
        """A model (or the demo) answers: what a recording is for."""
        return self.endpoint is not None

    def events(
        self, request: Mapping[str, Any], conversation: str | None
    ) -> AsyncGenerator[Event, None]:
        if self.replayer is not None:
            return whole_characters(self.replayer.stream(request, conversation=conversation))
        if self.endpoint is not None:
            return stream_chat(
                self.endpoint.client,
                request,
                first_byte_timeout=self.endpoint.first_byte_timeout,
            )
        return _only(self.failure or StreamError("No endpoint configured", ""))

    def describe(self, exc: BaseException) -> StreamError:
        """An exception nothing else turned into an error, without the key."""
        client = self.endpoint.client if self.endpoint is not None else None
        return scrub(unexpected_error(exc), secrets_of(client))

    async def aclose(self) -> None:
        if self.endpoint is not None:
            await self.endpoint.client.close()


async def _only(error: StreamError) -> AsyncGenerator[Event, None]:
    yield error


def open_source(
    model: str, *, read_timeout: float, on_retry: Callable[[int], None] | None = None
) -> Source:
    """The replay when one is on, else the model's endpoint (or the offline demo)."""
    replayer = SESSION.replayer
    if replayer is not None:
        return Source(REPLAY, "replay", replayer=replayer)
    try:
        endpoint = open_endpoint(model, read_timeout=read_timeout, on_retry=on_retry)
    except EndpointError as exc:
        return Source(MODEL_ENDPOINT, "", failure=StreamError(exc.title, str(exc)))
    if endpoint.demo:
        notice = DEMO_ASKED_NOTICE if configured() else DEMO_NOTICE
        return Source(DEMO, endpoint.host, notice, endpoint=endpoint)
    return Source(MODEL_ENDPOINT, endpoint.host, endpoint=endpoint)
