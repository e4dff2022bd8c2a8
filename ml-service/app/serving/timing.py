"""Where a prediction's time goes, per hop, as a `Server-Timing` response header (W3C Server
Timing): `ingress` (the ML Service's middlewares, routing and body parsing up to the predict
code), `check` (variant choice and the signature check), `to_replica` (Ray Serve's router, the
gRPC hop and the wait in the replica's queue), `compute` (the model), `from_replica` (the answer's
way back), `respond` (monitoring log, metrics and JSON up to the response start) and `ml` (all of
it). The embedded runtime has `compute` only between `check` and `respond`. Durations in ms.

Off by default (`MLS_SERVING_TIMING`): it is for `bench/serving`, which reads the header of every
request. With it off a request pays one attribute read and the predict path one ContextVar read.
The replica hops compare wall clocks of two processes, so they are only meaningful with the
replicas on the ML Service's host.
"""

import time
from contextvars import ContextVar

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "Server-Timing"


class RequestTiming:
    """Durations (seconds) of one request's hops, in order: `lap` closes the hop that began at the
    previous lap (or at the request's start); the last one, `respond`, ends at the response."""

    def __init__(self) -> None:
        self.started = self.mark = time.perf_counter()
        self.hops: list[tuple[str, float]] = []

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.hops.append((name, now - self.mark))
        self.mark = now

    def add(self, name: str, seconds: float) -> None:
        """A hop measured elsewhere (in a replica); the next lap starts now."""
        self.hops.append((name, max(seconds, 0.0)))
        self.mark = time.perf_counter()

    def header(self) -> str:
        now = time.perf_counter()
        hops = [*self.hops, ("respond", now - self.mark), ("ml", now - self.started)]
        return ", ".join(f"{name};dur={seconds * 1000:.3f}" for name, seconds in hops)


# Set by ServerTimingMiddleware for each request when timing is on; None otherwise.
REQUEST_TIMING: ContextVar[RequestTiming | None] = ContextVar("request_timing", default=None)


class ServerTimingMiddleware:
    """Plain ASGI (no extra task per request), outermost, so `ingress` includes the other
    middlewares. With `app.state.serving_timing` off (set at start-up from MLS_SERVING_TIMING) it
    only passes the request on. Only responses whose code recorded a hop get the header."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["app"].state.serving_timing:
            await self.app(scope, receive, send)
            return
        timing = RequestTiming()
        token = REQUEST_TIMING.set(timing)

        async def send_with_timing(message: Message) -> None:
            if message["type"] == "http.response.start" and timing.hops:
                MutableHeaders(scope=message).append(HEADER, timing.header())
            await send(message)

        try:
            await self.app(scope, receive, send_with_timing)
        finally:
            REQUEST_TIMING.reset(token)
