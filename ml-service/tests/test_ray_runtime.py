"""The local Ray instance authenticates every client with the token only the ML Service holds, and
listens on loopback only."""

import os
import stat
import subprocess
import sys

import ray

from app.config import Settings
from tests.conftest import is_loopback, ray_listeners


def test_local_ray_token_is_private_to_the_service(settings: Settings, ray_cluster: None) -> None:
    token_path = settings.data_dir / "ray" / "auth_token"
    assert os.environ["RAY_AUTH_MODE"] == "token"
    assert os.environ["RAY_AUTH_TOKEN_PATH"] == str(token_path)
    assert stat.S_IMODE(token_path.stat().st_mode) == 0o600
    assert len(token_path.read_text()) == 64


def test_refuses_a_driver_with_the_wrong_token(ray_cluster: None) -> None:
    gcs_address = ray.get_runtime_context().gcs_address
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_AUTH")}
    env |= {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": "0" * 64}
    joined = subprocess.run(
        [sys.executable, "-c", f"import ray; ray.init(address={gcs_address!r}); print('joined')"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert joined.returncode != 0
    assert "joined" not in joined.stdout
    assert "InvalidAuthToken" in joined.stderr


@ray.remote
class _Listener:
    """An actor: its worker process opens Ray's per-worker servers too."""

    def ping(self) -> str:
        return "pong"


def test_every_ray_listener_is_on_loopback(ray_cluster: None) -> None:
    # A task and an actor, so workers exist beside the GCS, raylet and agents.
    assert ray.get(ray.remote(lambda: 1).remote()) == 1
    actor = _Listener.remote()  # type: ignore[attr-defined]
    assert ray.get(actor.ping.remote()) == "pong"
    listening = ray_listeners()
    ray.kill(actor)
    assert len(listening) >= 2, listening  # the GCS and the raylet at least
    exposed = [item for item in listening if not is_loopback(item[1])]
    assert exposed == [], exposed
