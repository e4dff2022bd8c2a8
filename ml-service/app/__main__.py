"""`python -m app`: serve with uvicorn on MLS_HOST:MLS_PORT."""

import sys

import uvicorn

from app.config import ConfigurationError, load_settings

GRACEFUL_SHUTDOWN_SECONDS = 5


def main() -> None:
    try:
        settings = load_settings()
    except ConfigurationError as error:
        sys.exit(str(error))
    # Job event streams (SSE) stay open as long as their job runs; without a bound, a shutdown
    # would wait for every watched job to end. After it they are cancelled, and the AI Service
    # tells its clients that the ML Service went away.
    uvicorn.run(
        "app.main:app",
        host=settings.host,
        port=settings.port,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        # RequestContextMiddleware writes the access line (with request id and tenant); uvicorn's
        # own would be a second line per request
        access_log=False,
    )


if __name__ == "__main__":
    main()
