"""Structured key=value logs carrying the request id of the call that caused them."""

import logging
import re
import sys
import time
import uuid
from contextvars import ContextVar

from fastapi import Request, Response

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


def configure_logging(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(KeyValueFormatter())
    logger = logging.getLogger("app")
    logger.handlers[:] = [handler]
    logger.setLevel(level)
    logger.propagate = False


REQUEST_ID_HEADER = "X-Request-ID"
# Ids from callers go into log lines; anything outside this alphabet is replaced.
_REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_access_logger = logging.getLogger("app.access")


async def request_context_middleware(request: Request, call_next) -> Response:
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    request_id = incoming if _REQUEST_ID_PATTERN.fullmatch(incoming) else uuid.uuid4().hex
    token = request_id_var.set(request_id)
    started = time.perf_counter()
    try:
        response = await call_next(request)
        response.headers[REQUEST_ID_HEADER] = request_id
        _access_logger.info(
            "request handled",
            extra={
                "fields": {
                    "method": request.method,
                    "path": request.url.path,
                    "status": response.status_code,
                    "tenant_id": request.headers.get("X-Tenant-ID", "-"),
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                }
            },
        )
        return response
    finally:
        request_id_var.reset(token)
