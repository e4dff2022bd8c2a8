"""Server-Sent Events framing of a job's event stream, shared by every events route."""

from collections.abc import AsyncIterator

from fastapi.responses import StreamingResponse
from pydantic import BaseModel


async def _frames(events: AsyncIterator[BaseModel | None]) -> AsyncIterator[str]:
    sequence = 0
    async for event in events:
        if event is None:
            yield ": keep-alive\n\n"
            continue
        sequence += 1
        kind = getattr(event, "type", "message")
        yield f"id: {sequence}\nevent: {kind}\ndata: {event.model_dump_json()}\n\n"


def event_stream_response(events: AsyncIterator[BaseModel | None]) -> StreamingResponse:
    """`text/event-stream` of the events (each with a `type`); None writes a keep-alive."""
    return StreamingResponse(
        _frames(events),
        media_type="text/event-stream",
        # no-transform/X-Accel-Buffering: proxies must pass each event on at once
        headers={"Cache-Control": "no-cache, no-transform", "X-Accel-Buffering": "no"},
    )
