"""Structured logs carrying the request id of the call that caused them: key=value lines for a
person at a console (the default) or one JSON object per line for a log collector
(`MLS_LOG_FORMAT=json`).
"""

import json
import logging
import re
import sys
import time
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# A ContextVar follows the request into the asyncio tasks it spawns (training jobs included),
# so a job's log lines keep the request id of its submission.
request_id_var: ContextVar[str] = ContextVar("request_id", default="-")


def _quote(value: object) -> str:
    text = str(value)
    if text == "" or any(character in text for character in ' "='):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text


class KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, object] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "request_id": request_id_var.get(),
            "msg": record.getMessage(),
        }
        fields.update(getattr(record, "fields", {}))
        line = " ".join(f"{key}={_quote(value)}" for key, value in fields.items())
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class JsonLineFormatter(logging.Formatter):
    """One JSON object per line: `time` (UTC, ISO 8601 with milliseconds), `level`, `logger`,
    `message`, `request_id`, then the line's own fields (the access line adds method, path,
    status, tenant_id, duration_ms) and `exception` with the traceback. Newlines inside values
    are escaped by JSON, so a traceback never splits a record."""

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": request_id_var.get(),
        }
        fields.update(getattr(record, "fields", {}))
        if record.exc_info:
            fields["exception"] = self.formatException(record.exc_info)
        return json.dumps(fields, default=str)


def configure_logging(level: int = logging.INFO, log_format: str = "text") -> None:
    """Sends the `app` loggers to stderr, as key=value lines (`text`) or JSON lines (`json`)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLineFormatter() if log_format == "json" else KeyValueFormatter())
    if log_format == "json":
        # Uvicorn's own lines too (its errors, refused requests), so a collector reads one format.
        logging.getLogger("uvicorn").handlers[:] = [handler]
    logger = logging.getLogger("app")
    logger.handlers[:] = [handler]
    logger.setLevel(level)
    logger.propagate = False


REQUEST_ID_HEADER = "X-Request-ID"
# Ids from callers go into log lines; anything outside this alphabet is replaced.
_REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_access_logger = logging.getLogger("app.access")


class RequestContextMiddleware:
    """Gives each request its id (the caller's X-Request-ID when well formed), returns it in
    the response and writes one access line per request.

    Plain ASGI rather than `@app.middleware("http")`: Starlette's BaseHTTPMiddleware runs the
    app in a task group and re-streams its response, which cost about a millisecond of CPU per
    request, more than a single-row prediction itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        incoming = headers.get(REQUEST_ID_HEADER, "")
        request_id = incoming if _REQUEST_ID_PATTERN.fullmatch(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _access_logger.info(
                "request handled",
                extra={
                    "fields": {
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": status,
                        "tenant_id": headers.get("X-Tenant-ID", "-"),
                        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    }
                },
            )
            request_id_var.reset(token)
