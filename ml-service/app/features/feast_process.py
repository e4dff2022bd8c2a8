"""The ML Service's side of the Feast worker (ml-service/feature-store/feast_worker.py).

Feast cannot be imported here (it needs pandas < 3; docs/architecture.md, "Feature store"), so
it runs in one child process from its own environment, started at the service's start-up
(`warm`, in the background) or on first use, and kept: importing Feast takes ~10 s. Requests
are one JSON line each, answered in order; a lock keeps one request in flight. A worker that
died (or never answered) is started again on the next request.
"""

import json
import logging
import subprocess
import threading
from pathlib import Path
from typing import Any

from app.errors import MLServiceError

logger = logging.getLogger(__name__)

WORKER_SCRIPT = Path(__file__).resolve().parents[2] / "feature-store" / "feast_worker.py"


class FeatureStoreUnavailableError(MLServiceError):
    """The Feast worker could not be started or stopped answering (503)."""

    status_code = 503


class FeastRequestError(RuntimeError):
    """Feast refused a request; the message is Feast's."""


class FeastProcess:
    def __init__(self, python: Path) -> None:
        self._python = python
        self._lock = threading.Lock()
        self._process: subprocess.Popen[str] | None = None

    def _started(self) -> subprocess.Popen[str]:
        if self._process is not None and self._process.poll() is None:
            return self._process
        if not self._python.exists():
            raise FeatureStoreUnavailableError(
                "the feature store environment is not installed (run scripts/setup.sh)"
            )
        process = subprocess.Popen(
            [str(self._python), str(WORKER_SCRIPT)],
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
