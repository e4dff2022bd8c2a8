"""A throw-away local stack for the benchmarks: the ML Service and the AI Service on spare loopback
ports with a temporary data folder, started as `./scripts/run.sh` starts them and removed after."""

import contextlib
import http.client
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ML_SERVICE_DIR = ROOT / "ml-service"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_ready(url: str, process: subprocess.Popen, log: Path, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited early; log {log}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/health/ready", timeout=2) as response:
                if response.status == 200:
                    return
        except (OSError, http.client.HTTPException):
            # Not listening yet, or not yet speaking HTTP.
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} not ready after {timeout} s; log {log}:\n{log.read_text()[-3000:]}")


@dataclass
class Stack:
    ai_url: str
    ml_url: str
    processes: list[subprocess.Popen]
    data_dir: Path | None

    def stop(self) -> None:
        for process in reversed(self.processes):
            # Each service runs in its own process group: uvicorn's Ray workers stop with it.
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=60)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
        if self.data_dir is not None:
            shutil.rmtree(self.data_dir, ignore_errors=True)


def service_headers() -> dict[str, str]:
    """The ML Service's `Authorization` for direct calls: the token of the stack started here, or
    MLS_SERVICE_TOKEN of a running one given by URL."""
    token = os.environ.get("MLS_SERVICE_TOKEN")
    if not token:
        raise RuntimeError("MLS_SERVICE_TOKEN is not set: the ML Service answers 401 without it")
    return {"Authorization": f"Bearer {token}"}


def start_stack(prefix: str, tenant: str, api_key: str, seed_demo_data: bool) -> Stack:
    """Both services, each in its own process group, ready when this returns."""
    # One shared secret for the hop, also used by service_headers() for the bench's direct calls.
    token = os.environ.setdefault("MLS_SERVICE_TOKEN", secrets.token_urlsafe(24))
    dist = ROOT / "dist" / "main.js"
    if not dist.exists():
        raise RuntimeError("dist/main.js is missing: run `npm run build` (the run.sh scripts do)")
    data_dir = Path(tempfile.mkdtemp(prefix=prefix))
    ml_port = free_port()
    ml_url = f"http://127.0.0.1:{ml_port}"
    ml_log, ai_log = data_dir / "ml-service.log", data_dir / "ai-service.log"
    ml = subprocess.Popen(
        [sys.executable, "-m", "app"],
        cwd=ML_SERVICE_DIR,
        env={**os.environ, "MLS_HOST": "127.0.0.1", "MLS_PORT": str(ml_port),
             "MLS_DATA_DIR": str(data_dir),
             "MLS_SEED_DEMO_DATA": "true" if seed_demo_data else "false"},
        stdout=ml_log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    stack = Stack("", ml_url, [ml], data_dir)
    try:
        wait_ready(ml_url, ml, ml_log)
        # Picked only now: while the ML Service starts, Ray's processes bind spare ports, and one
        # once took a port picked up front (the AI Service could not listen, the probe met Ray).
        ai_port = free_port()
        ai_url = f"http://127.0.0.1:{ai_port}"
        stack.ai_url = ai_url
        ai = subprocess.Popen(
            ["node", str(dist)],
            cwd=ROOT,
            env={
                **os.environ,
                "PORT": str(ai_port),
                "HOST": "127.0.0.1",
                "ML_SERVICE_URL": ml_url,
                "ML_SERVICE_TOKEN": token,
                "API_KEYS": f"{api_key}:{tenant}",
            },
            stdout=ai_log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        stack.processes.append(ai)
        wait_ready(ai_url, ai, ai_log)
    except BaseException:
        stack.stop()
        raise
    return stack
