"""`python -m app`: serve with uvicorn on MLS_HOST:MLS_PORT."""

import sys

import uvicorn

from app.config import ConfigurationError, load_settings


def main() -> None:
    try:
        settings = load_settings()
    except ConfigurationError as error:
        sys.exit(str(error))
    uvicorn.run("app.main:app", host=settings.host, port=settings.port)


if __name__ == "__main__":
    main()
