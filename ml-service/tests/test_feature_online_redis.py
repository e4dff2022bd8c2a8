"""The Redis online store (MLS_FEATURE_ONLINE_STORE=redis://…, the scale-out topology's) on a real
redis-server: materialised values and statuses read back from Redis, two tenants with the same
feature set in one Redis seeing only their own values, and a Redis that is down answered 503
naming it, with nothing lost once it is back."""

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from fastapi.testclient import TestClient

from app.config import ConfigurationError, Settings, load_settings
from app.main import create_app
from tests.conftest import AUTHORIZATION, tenant_headers

TENANT = "redis-shop"
# Differs from TENANT only by `_` for `-`: the two must still get two Feast projects.
OTHER_TENANT = "redis_shop"
# Sent to Redis by Feast; it must never appear in an answer.
PASSWORD = "red1s-s3cret-pw"

SHOP = """
CREATE SCHEMA IF NOT EXISTS shop;
CREATE OR REPLACE TABLE shop.customer_history AS SELECT * FROM (VALUES
    ('C-1', TIMESTAMP '2024-01-01 00:00:00', 10.0::DOUBLE, 'basic'),
    ('C-1', TIMESTAMP '2024-02-01 00:00:00', 20.0, 'plus'),
    ('C-2', TIMESTAMP '2024-01-15 00:00:00', 5.0, 'basic')
) AS t(customer_id, updated_at, spend, plan);
"""
# The other tenant: the same feature set name over its own rows, one customer id in common.
OTHER = """
CREATE SCHEMA IF NOT EXISTS shop;
CREATE OR REPLACE TABLE shop.customer_history AS SELECT * FROM (VALUES
    ('C-2', TIMESTAMP '2024-03-01 00:00:00', 99.0::DOUBLE, 'gold'),
    ('C-9', TIMESTAMP '2024-03-01 00:00:00', 42.0, 'gold')
) AS t(customer_id, updated_at, spend, plan);
"""
DEFINITION = {
    "name": "customer",
    "entity": {"name": "customer", "join_keys": ["customer_id"]},
    "source": {"source": "table", "table": "shop.customer_history"},
    "timestamp_column": "updated_at",
    "features": [{"column": "spend"}, {"column": "plan", "transform": {"type": "one_hot"}}],
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """A real redis-server on a free port, with a password, keeping its data in `folder` only
    when shut down with SAVE (so a restart finds what was there)."""

    def __init__(self, folder: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail(
                "redis-server is not installed: `apt-get install redis-server` (.ci/run installs "
                "it); the Redis online store is tested on a real Redis"
            )
        self.binary = binary
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://:{PASSWORD}@127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder), "--requirepass", PASSWORD],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while self.cli("PING") != "PONG":
            assert self.process.poll() is None, "redis-server exited at start-up"
            assert time.monotonic() < deadline, "redis-server did not answer PING"
            time.sleep(0.05)

    def cli(self, *command: str) -> str:
        done = subprocess.run(
            ["redis-cli", "-p", str(self.port), "--no-auth-warning", "-a", PASSWORD, *command],
            capture_output=True,
            text=True,
        )
        return done.stdout.strip()

    def stop(self, save: bool = False) -> None:
        if self.process is None:
            return
        if save:
            self.cli("SHUTDOWN", "SAVE")
        else:
            self.process.terminate()
        self.process.wait(timeout=10)
        self.process = None


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def redis_app(
    redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory, ray_cluster: None
) -> Iterator[TestClient]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("redis-data"),
        ray_num_cpus=2,
        seed_demo_data=False,
        feature_online_store=redis_server.url,
    )
    with TestClient(create_app(settings), headers=AUTHORIZATION) as client:
        for tenant, script in ((TENANT, SHOP), (OTHER_TENANT, OTHER)):

            def work(connection: duckdb.DuckDBPyConnection, script: str = script) -> None:
                connection.execute(script)

            client.app.state.warehouses.write(tenant, work)  # type: ignore[attr-defined]
        yield client


def materialize(client: TestClient, tenant: str) -> dict:
    submitted = client.post(
        "/api/v1/features/sets/customer/versions/1/materialize",
        json={},
        headers=tenant_headers(tenant),
    )
    assert submitted.status_code == 202, submitted.text
    deadline = time.monotonic() + 120
    while True:
        job = client.get(
            f"/api/v1/jobs/{submitted.json()['job_id']}", headers=tenant_headers(tenant)
        ).json()
        if job["status"] in {"completed", "failed", "cancelled"}:
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.2)


def lookup(
    client: TestClient, tenant: str, *customers: str, features: tuple[str, ...] = ("spend",)
) -> dict[str, dict]:
    """{feature name: its values/statuses}; asserts a 200."""
    answer = client.post(
        "/api/v1/features/online",
        json={
            "features": [f"customer_v1:{feature}" for feature in features],
            "entities": {"customer_id": list(customers)},
        },
        headers=tenant_headers(tenant),
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    return dict(zip(body["metadata"]["feature_names"], body["results"], strict=True))


def test_materialised_values_are_read_back_from_redis(
    redis_app: TestClient, redis_server: RedisServer
) -> None:
    created = redis_app.post(
        "/api/v1/features/sets", json=DEFINITION, headers=tenant_headers(TENANT)
    )
    assert created.status_code == 201, created.text
    assert redis_server.cli("DBSIZE") == "0"
    job = materialize(redis_app, TENANT)
    assert job["status"] == "completed", job
    # one Redis hash per entity, and no SQLite online store beside the tenant's registry
    assert redis_server.cli("DBSIZE") == "2"
    feast_dir = redis_app.app.state.settings.features_dir / TENANT / "feast"  # type: ignore[attr-defined]
    assert (feast_dir / "registry.db").exists()
    assert not (feast_dir / "online.db").exists()

    found = lookup(redis_app, TENANT, "C-1", "C-2", "C-404", features=("spend", "plan_plus"))
    assert found["spend"]["values"] == [20.0, 5.0, None]
    assert found["spend"]["statuses"] == ["PRESENT", "PRESENT", "NOT_FOUND"]
    assert found["spend"]["event_timestamps"][0].startswith("2024-02-01")
    assert found["plan_plus"]["values"][:2] == [1, 0]
    assert found["plan_plus"]["statuses"][2] == "NOT_FOUND"


def test_a_second_tenant_in_the_same_redis_sees_only_its_own_values(
    redis_app: TestClient, redis_server: RedisServer
) -> None:
    headers = tenant_headers(OTHER_TENANT)
    # the same feature set name and version, so the same Feast view name, in another project
    created = redis_app.post("/api/v1/features/sets", json=DEFINITION, headers=headers)
    assert created.status_code == 201, created.text
    assert materialize(redis_app, OTHER_TENANT)["status"] == "completed"
    assert redis_server.cli("DBSIZE") == "4"

    theirs = lookup(redis_app, OTHER_TENANT, "C-1", "C-2", "C-9")
    assert theirs["spend"]["values"] == [None, 99.0, 42.0]
    assert theirs["spend"]["statuses"] == ["NOT_FOUND", "PRESENT", "PRESENT"]
    mine = lookup(redis_app, TENANT, "C-1", "C-2", "C-9")
    assert mine["spend"]["values"] == [20.0, 5.0, None]
    assert mine["spend"]["statuses"] == ["PRESENT", "PRESENT", "NOT_FOUND"]


def test_a_redis_that_is_down_is_a_503_naming_it_and_loses_nothing(
    redis_app: TestClient, redis_server: RedisServer
) -> None:
    features = redis_app.app.state.features  # type: ignore[attr-defined]
    before = features.materialization(TENANT, "customer", 1)
    assert before is not None
    redis_server.stop(save=True)
    try:
        answer = redis_app.post(
            "/api/v1/features/online",
            json={"features": ["customer_v1:spend"], "entities": {"customer_id": ["C-1"]}},
            headers=tenant_headers(TENANT),
        )
        assert answer.status_code == 503, answer.text
        assert f"Redis at 127.0.0.1:{redis_server.port}/0" in answer.json()["detail"]
        assert PASSWORD not in answer.text

        job = materialize(redis_app, TENANT)
        assert job["status"] == "failed", job
        assert f"Redis at 127.0.0.1:{redis_server.port}/0" in job["error"]
        assert PASSWORD not in str(job)
        # the failed job recorded no materialisation: the earlier one still stands
        assert features.materialization(TENANT, "customer", 1) == before
    finally:
        redis_server.start()
    # Redis back with what it had: the values are served again without a new materialisation
    assert lookup(redis_app, TENANT, "C-1")["spend"]["values"] == [20.0]


def test_a_redis_url_becomes_feasts_connection_string_and_its_password_stays_hidden(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(
        "MLS_FEATURE_ONLINE_STORE", "rediss://app:s3cr%40t%3Dtrue@cache.internal:6380/2"
    )
    settings = load_settings()
    store = settings.online_store
    assert store is not None
    # quoted, so Feast's JSON decoding of each value keeps the password a string
    assert store.connection_string == (
        "cache.internal:6380,db=2,socket_connect_timeout=2,socket_timeout=2,ssl=true,"
        'username="app",password="s3cr@t=true"'
    )
    assert store.label == "Redis at cache.internal:6380/2"
    assert "s3cr" not in repr(settings)
    monkeypatch.setenv("MLS_FEATURE_ONLINE_STORE", "sqlite")
    assert load_settings().online_store is None


@pytest.mark.parametrize(
    "value",
    [
        "redis://:s3cret,x@cache:6379/0",  # Feast splits its connection string on commas
        "postgresql://app:s3cret@cache/features",
        "redis://:s3cret@cache:port/0",
        "redis://:s3cret@cache:6379/zero",
        "redis://:s3cret@cache:6379/0?ssl=true",
    ],
)
def test_a_bad_online_store_stops_start_up_without_showing_the_value(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("MLS_FEATURE_ONLINE_STORE", value)
    with pytest.raises(ConfigurationError, match="MLS_FEATURE_ONLINE_STORE") as raised:
        load_settings()
    assert "s3cret" not in str(raised.value)
