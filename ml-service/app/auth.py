"""The AI Service proves who it is: every call but the health probes and the API document carries
`Authorization: Bearer <MLS_SERVICE_TOKEN>`, compared in constant time; anything else is 401.

The ML Service trusts `X-Tenant-ID` and takes tenants' limits from its own configuration, so
reaching its port must not be enough to act as any tenant (issue 11). A shared secret from
configuration is the single-machine answer; mTLS would replace it between hosts.
"""

import hmac
import json
import os
import secrets
from pathlib import Path

from starlette.types import ASGIApp, Receive, Scope, Send

from app.errors import is_inference_v2_path

# Open without the token: the process and dependency probes (orchestrators call them without
# secrets, and they say only up/down) and the API description. /metrics is NOT open: its series
# carry tenant and model ids.
OPEN_PATHS = frozenset(
    {"/health/live", "/health/ready", "/openapi.json", "/docs", "/docs/oauth2-redirect"}
)
SERVICE_TOKEN_FILE = "service_token"


def service_token(configured: str | None, data_dir: Path) -> str:
    """`MLS_SERVICE_TOKEN`, or the token kept in `<data_dir>/service_token` (mode 600), made once
    with 32 random bytes when neither exists, so a fresh local set-up is never open."""
    if configured:
        return configured
    path = data_dir / SERVICE_TOKEN_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as sink:
            sink.write(secrets.token_urlsafe(32))
    return path.read_text().strip()


class ServiceTokenMiddleware:
    """Plain ASGI, outermost: an unauthenticated request is refused before its body is read or
    parsed. The expected token is `app.state.service_token`, set at start-up."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in {"http", "websocket"} or scope["path"] in OPEN_PATHS:
            await self._app(scope, receive, send)
            return
        presented = next(
            (value for name, value in scope["headers"] if name == b"authorization"), b""
        )
        # Set by the lifespan from the settings (`service_token` above) before any request.
        expected = f"Bearer {scope['app'].state.service_token}".encode()
        if hmac.compare_digest(presented, expected):
            await self._app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        detail = (
            "missing Authorization header: the ML Service answers the AI Service only "
            "(Authorization: Bearer <MLS_SERVICE_TOKEN>)"
            if not presented
            else "the Authorization header does not carry the service token"
        )
        # The error body of the route asked for: `error` on the inference protocol's.
        key = "error" if is_inference_v2_path(scope["path"]) else "detail"
        body = json.dumps({key: detail}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"www-authenticate", b'Bearer realm="ml-service"'),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
