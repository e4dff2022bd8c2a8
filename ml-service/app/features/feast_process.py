"""The ML Service's side of the Feast worker (ml-service/feature-store/feast_worker.py).

Feast cannot be imported here (it needs pandas < 3; docs/architecture.md, "Feature store"), so
it runs in one child process from its own environment, started at the service's start-up
(`warm`, in the background) or on first use, and kept: importing Feast takes ~10 s. Requests
are one JSON line each, answered in order; a lock keeps one request in flight. A worker that
died (or never answered) is started again on the next request. With a Redis online store
(app/features/online_store.py) the worker gets Feast's connection string in its environment, and
a Redis it cannot reach is a FeatureStoreUnavailableError naming the store (503).
"""

import json
import logging
import os
import subprocess
import threading
from pathlib import Path
from typing import Any

from app.errors import MLServiceError
from app.features.online_store import RedisOnlineStore

logger = logging.getLogger(__name__)

WORKER_SCRIPT = Path(__file__).resolve().parents[2] / "feature-store" / "feast_worker.py"


class FeatureStoreUnavailableError(MLServiceError):
    """The Feast worker could not be started or stopped answering, or the online store could not
    be reached (503)."""

    status_code = 503


class FeastRequestError(RuntimeError):
    """Feast refused a request; the message is Feast's."""


class FeastProcess:
    def __init__(self, python: Path, online_store: RedisOnlineStore | None = None) -> None:
        """`python`: the Feast environment's interpreter; `online_store`: Redis, or None for the
        SQLite file of each tenant's project."""
        self._python = python
        self._online_store = online_store
        self._lock = threading.Lock()
        self._process: subprocess.Popen[str] | None = None

    def _started(self) -> subprocess.Popen[str]:
        if self._process is not None and self._process.poll() is None:
            return self._process
        if not self._python.exists():
            raise FeatureStoreUnavailableError(
                "the feature store environment is not installed (run scripts/setup.sh)"
            )
        # Only Feast's form of the store reaches the worker (the URL of MLS_FEATURE_ONLINE_STORE
        # is not passed on: one copy of the password fewer).
        environment = {**os.environ}
        environment.pop("FEAST_REDIS_CONNECTION_STRING", None)
        environment.pop("MLS_FEATURE_ONLINE_STORE", None)
        if self._online_store is not None:
            environment["FEAST_REDIS_CONNECTION_STRING"] = self._online_store.connection_string
        process = subprocess.Popen(
            [str(self._python), str(WORKER_SCRIPT)],
            env=environment,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=None,  # Feast's logs join the service's own stderr
            text=True,
            bufsize=1,
        )
        self._process = process
        self._answer(process)  # the `ready` line, once Feast is imported
        return process

    def _answer(self, process: subprocess.Popen[str]) -> dict[str, Any]:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            code = process.wait()
            self._process = None
            raise FeatureStoreUnavailableError(f"the Feast worker exited (code {code})")
        return json.loads(line)

    def warm(self) -> None:
        """Start the worker ahead of the first request (importing Feast takes 10-20 s, more than
        a caller's deadline on a busy machine); a failure is logged, and the first request
        answers it."""
        try:
            with self._lock:
                self._started()
        except Exception:
            logger.warning("the Feast worker did not start", exc_info=True)

    def call(self, operation: str, **fields: Any) -> dict[str, Any]:
        """Run one request (see feast_worker.py for the operations); Feast's refusal is a
        FeastRequestError carrying its message."""
        with self._lock:
            process = self._started()
            assert process.stdin is not None
            try:
                process.stdin.write(json.dumps({"op": operation, **fields}) + "\n")
                process.stdin.flush()
            except BrokenPipeError:
                self._process = None
                raise FeatureStoreUnavailableError("the Feast worker exited") from None
            answer = self._answer(process)
        if answer.get("unavailable"):
            label = self._online_store.label if self._online_store else "SQLite"
            raise FeatureStoreUnavailableError(
                f"the online store ({label}) cannot be reached: {answer.get('error')}"
            )
        if not answer.get("ok"):
            raise FeastRequestError(str(answer.get("error")))
        return answer

    def close(self) -> None:
        with self._lock:
            process, self._process = self._process, None
        if process is None:
            return
        assert process.stdin is not None
        process.stdin.close()  # the worker ends at the end of its input
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
