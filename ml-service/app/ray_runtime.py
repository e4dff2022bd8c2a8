"""Start a local Ray instance or join the cluster named by RAY_ADDRESS."""

import logging
import os
import secrets
from pathlib import Path

import ray
from ray._raylet import AuthenticationTokenLoader, Config
from ray.job_config import JobConfig

from app.config import Settings

logger = logging.getLogger(__name__)

ML_SERVICE_DIR = Path(__file__).resolve().parents[1]
RAY_WORKER_ENV = {
    "RAY_TRAIN_V2_ENABLED": "1",
    # The Train controller polls its workers at this interval and every report waits for a
    # poll; Ray's 2 s default adds several seconds to each short job.
    "RAY_TRAIN_HEALTH_CHECK_INTERVAL_S": "0.5",
    # The watcher is one more process per job and only matters on preemptible (spot) nodes.
    "RAY_TRAIN_ENABLE_PREEMPTION_WATCHER": "0",
}


def ensure_local_auth_token(data_dir: Path) -> Path:
    """The token of the local Ray instance: made once, readable by this user only.

    Ray checks it on every RPC and HTTP entry point when RAY_AUTH_MODE=token. We set the mode
    ourselves rather than rely on the version's default, and keep the token with the service's
    other state instead of in the home folder, so only the ML Service holds it.
    """
    token_path = data_dir / "ray" / "auth_token"
    if not token_path.exists():
        token_path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(token_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as token_file:
            token_file.write(secrets.token_hex(32))
    return token_path


def connect_ray(settings: Settings) -> bool:
    """Initialise Ray unless this process already did; True when this call started it."""
    if ray.is_initialized():
        return False
    # Workers import the job driver from `app`, so they need this folder on their path.
    job_config = JobConfig(
        code_search_path=[str(ML_SERVICE_DIR)], runtime_env={"env_vars": RAY_WORKER_ENV}
    )
    common = {
        "include_dashboard": False,
        "log_to_driver": False,
        "logging_level": logging.WARNING,
        "job_config": job_config,
    }
    if settings.ray_address:
        logger.info("joining Ray cluster at %s", settings.ray_address)
        ray.init(address=settings.ray_address, **common)
    else:
        logger.info("starting local Ray with %d CPUs", settings.ray_num_cpus)
        # A cluster named by RAY_ADDRESS brings its own RAY_AUTH_MODE/RAY_AUTH_TOKEN.
        os.environ["RAY_AUTH_MODE"] = "token"
        os.environ["RAY_AUTH_TOKEN_PATH"] = str(ensure_local_auth_token(settings.data_dir))
        # Ray reads both variables when it is imported; refresh its cached config and token the
        # way Ray's own default-enabling code does, so this process uses them too.
        Config.initialize("")
        AuthenticationTokenLoader.instance().reset_cache()
        # Bind Ray's own ports to loopback: only the ML Service's HTTP port is ever exposed.
        ray.init(num_cpus=settings.ray_num_cpus, _node_ip_address="127.0.0.1", **common)
    return True
