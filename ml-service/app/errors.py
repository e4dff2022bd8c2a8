"""Domain exceptions and the handlers that turn them into the contract's error body.

Every error answers `{"detail": "<one sentence>", "errors": [{"field", "message"}]?}`, except on
the Open Inference Protocol's routes (`/v2...`), whose clients read `{"error": "<one sentence>"}`
(KServe v2 protocol, "Errors"); `errors` is kept there too, so the field names still travel.
"""

import logging
import re
import sys
import tempfile
from functools import cache
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger(__name__)


class FieldError(BaseModel):
    field: str
    message: str


class ErrorResponse(BaseModel):
    detail: str
    errors: list[FieldError] | None = None


class V2ErrorResponse(BaseModel):
    """The error body on the Open Inference Protocol's routes: `error` is the sentence `detail`
    is elsewhere; `errors` names the fields the same way."""

    error: str
    errors: list[FieldError] | None = None


def is_inference_v2_path(path: str) -> bool:
    """The Open Inference Protocol's routes, whose errors are `{"error": ...}`."""
    return path == "/v2" or path.startswith("/v2/")


class MLServiceError(Exception):
    status_code = 500
    # answered as a Retry-After header (seconds) when set: how soon the same call may succeed
    retry_after_seconds: int | None = None

    def __init__(self, detail: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors


class BadRequestError(MLServiceError):
    status_code = 400


class ForbiddenError(MLServiceError):
    status_code = 403


class NotFoundError(MLServiceError):
    status_code = 404


class ConflictError(MLServiceError):
    status_code = 409


class NotAcceptableError(MLServiceError):
    """The Accept header allows none of the representations the resource has."""

    status_code = 406


class InvalidFieldError(MLServiceError):
    """A request field is well-formed JSON but wrong for the service (422 naming the field)."""

    status_code = 422

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}", [FieldError(field=field, message=message)])
        self.field = field


class InvalidFieldsError(MLServiceError):
    """Several request fields wrong for the service: one 422 listing each; the detail names the
    first and counts the rest."""

    status_code = 422

    def __init__(self, errors: list[FieldError]) -> None:
        first = errors[0]
        more = f" (and {len(errors) - 1} more in errors)" if len(errors) > 1 else ""
        super().__init__(f"{first.field}: {first.message}{more}", errors)


class QuotaExceededError(MLServiceError):
    """429 with Retry-After: a tenant's active-job quota frees up in tens of seconds at best."""

    status_code = 429
    retry_after_seconds = 30


class WarehouseBusyError(QuotaExceededError):
    """429 for a tenant over its concurrent warehouse calls: those end within seconds, so a
    short Retry-After lets a client (the AI Service's retry) try again soon."""

    retry_after_seconds = 1


class QueryTimeoutError(MLServiceError):
    """A warehouse statement outlived its time limit and was interrupted, or waited that long
    behind the tenant's other statements without starting (504 naming the query).

    Not transient: the same statement would run as long again, so callers must not retry it.
    """

    status_code = 504

    def __init__(self, what: str, seconds: float, variable: str, queued: bool = False) -> None:
        if queued:
            message = (
                f"the statement waited {seconds:g} s behind the tenant's other warehouse calls "
                f"without starting, the time limit of warehouse work ({variable}); try again "
                "when they have ended"
            )
        else:
            message = (
                f"the statement was stopped after {seconds:g} s, the time limit of warehouse "
                f"work ({variable}); make the query cheaper, or ask for a higher limit"
            )
        super().__init__(f"{what}: {message}", [FieldError(field=what, message=message)])


class PayloadTooLargeError(MLServiceError):
    """An upload over its size limit (413 naming the field); reading stopped at the limit."""

    status_code = 413

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}", [FieldError(field=field, message=message)])
        self.field = field


def _body(detail: str, errors: list[FieldError] | None = None) -> dict:
    return ErrorResponse(detail=detail, errors=errors).model_dump(exclude_none=True)


# Folders of this machine that error texts from libraries (DuckDB, MLflow, Ray, the file system)
# may name: the repository, the Python installation, the temporary folder and the home folder,
# and the data folder once the settings are read (`add_server_folder`). A caller needs none.
_SERVER_FOLDERS = {
    str(Path(__file__).resolve().parents[2]), sys.prefix, sys.base_prefix, sys.exec_prefix,
    tempfile.gettempdir(), str(Path.home()),
}  # fmt: skip
# What ends a path inside a sentence: blanks, quotes, brackets, separators.
_PATH_TAIL = r"""(?:/[^\s'"`,;:()<>\[\]{}]*)*"""


def add_server_folder(folder: Path) -> None:
    """Names under `folder` (the data folder) are left out of error texts too."""
    _SERVER_FOLDERS.add(str(folder.resolve()))
    _server_path_pattern.cache_clear()


@cache
def _server_path_pattern() -> re.Pattern[str]:
    # Longest first, so a folder inside another is matched whole; only whole path segments.
    roots = sorted((root.rstrip("/") for root in _SERVER_FOLDERS if len(root) > 1), key=len)
    alternatives = "|".join(re.escape(root) for root in reversed(roots))
    return re.compile(rf"(?:file://)?(?:{alternatives})(?![\w.-])(?P<tail>{_PATH_TAIL})")


def without_server_paths(text: str) -> str:
    """`text` with every path under a folder of this server replaced by its last segment (the
    file name the caller may know, e.g. `model.pkl`), or by `<server path>` for a folder itself.

    Error texts of DuckDB, MLflow, Ray and the file system name absolute paths (issue 11: "error
    messages show absolute server paths"); they tell a caller how the server is laid out and
    nothing about the request.
    """

    def short(match: re.Match[str]) -> str:
        tail = match.group("tail").rstrip("/")
        return tail.rsplit("/", 1)[-1] if tail else "<server path>"

    return _server_path_pattern().sub(short, text)


def _error_response(
    request: Request,
    status_code: int,
    detail: str,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    detail = without_server_paths(detail)
    if errors:
        errors = [
            FieldError(field=item.field, message=without_server_paths(item.message))
            for item in errors
        ]
    content = _body(detail, errors)
    if is_inference_v2_path(request.url.path):
        content = {"error": content.pop("detail"), **content}
    return JSONResponse(status_code=status_code, content=content, headers=headers)


# The first location element says where the value came from (body, query, header, path);
# clients name fields by their path inside it, e.g. `split.test_size`.
_LOCATION_SOURCES = {"body", "query", "header", "path", "cookie"}


def _dotted_field(location: tuple) -> str:
    parts = [str(part) for part in location]
    if parts and parts[0] in _LOCATION_SOURCES:
        parts = parts[1:]
    return ".".join(parts) or "body"


async def _handle_service_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, MLServiceError)
    headers = (
        {"Retry-After": str(error.retry_after_seconds)}
        if error.retry_after_seconds is not None
        else None
    )
    return _error_response(request, error.status_code, error.detail, error.errors, headers)


async def _handle_validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    field_errors = [
        FieldError(field=_dotted_field(tuple(issue["loc"])), message=issue["msg"])
        for issue in error.errors()
    ]
    first = field_errors[0]
    return _error_response(
        request, 422, f"invalid request: {first.field}: {first.message}", field_errors
    )


async def _handle_http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    return _error_response(request, error.status_code, str(error.detail), headers=error.headers)


async def _handle_unexpected_error(request: Request, error: Exception) -> JSONResponse:
    logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=error)
    return _error_response(
        request, 500, "the ML Service hit an internal error; the details are in its log"
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(MLServiceError, _handle_service_error)
    app.add_exception_handler(RequestValidationError, _handle_validation_error)
    app.add_exception_handler(StarletteHTTPException, _handle_http_error)
    app.add_exception_handler(Exception, _handle_unexpected_error)


_TENANT_AND_VALIDATION = {
    400: "missing or malformed X-Tenant-ID",
    422: "invalid request; `errors` names the fields",
}
# Documented on every /api/v1 route so the generated client knows the error body.
ERROR_RESPONSES: dict[int | str, dict] = {
    code: {"model": ErrorResponse, "description": description}
    for code, description in _TENANT_AND_VALIDATION.items()
}
# The same answers on the Open Inference Protocol's routes, with its error body.
V2_ERROR_RESPONSES: dict[int | str, dict] = {
    code: {"model": V2ErrorResponse, "description": description}
    for code, description in _TENANT_AND_VALIDATION.items()
}
