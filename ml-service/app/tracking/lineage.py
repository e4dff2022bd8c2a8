"""What a run records about where it came from: the data's content hash and the code version."""

import hashlib
import subprocess
from functools import cache

import pandas as pd

from app import __version__
from app.config import REPOSITORY_ROOT


def content_hash(frame: pd.DataFrame) -> str:
    """sha256 of the loaded rows and column names: the same data gives the same hash."""
    digest = hashlib.sha256()
    digest.update("\x1f".join(map(str, frame.columns)).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()


@cache
def code_version() -> str:
    """The repository's git commit, or the package version where there is no git checkout."""
    try:
        completed = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=REPOSITORY_ROOT,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return f"ml-service {__version__}"
    return completed.stdout.strip()
