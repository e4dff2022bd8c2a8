"""Batch prediction as a job of the shared runner, without a running service: it completes into
a predictions table with its progress pushed, counts in the quota, returns the same batch for a
repeated key, and a cancelled batch writes no table."""

import asyncio
from collections.abc import Iterator
from pathlib import Path

import duckdb
import mlflow
import pytest
import xgboost

from app.datasets.schemas import DatasetSource
from app.datasets.warehouse import WarehouseManager
from app.errors import QuotaExceededError
from app.jobs.runner import JobRunner
from app.jobs.store import JobRecord, JobStore
from app.serving.batch import BatchPredictionHandler, BatchPredictor, batch_response
from app.serving.schemas import BatchPredictionCreate
from app.training.limits import TrainingLimits
from tests.test_serving_model import log_model, spec_for, training_frame

TENANT = "acme-corp"


@pytest.fixture(scope="module")
def tracking_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)
    yield uri
    mlflow.set_tracking_uri(previous)


@pytest.fixture(scope="module")
def model_source(tracking_uri: str) -> str:
    frame, label = training_frame()
    booster = xgboost.train(
        {"objective": "binary:logistic", "max_depth": 3},
        xgboost.DMatrix(frame, label=label, enable_categorical=True),
        num_boost_round=10,
    )
    return log_model(mlflow.xgboost, booster, tracking_uri)


def warehouse_with_customers(folder: Path, rows: int) -> WarehouseManager:
    warehouses = WarehouseManager(folder)
    frame, _ = training_frame(rows)
    frame["contract_type"] = frame["contract_type"].astype(str)

    def create(connection: duckdb.DuckDBPyConnection) -> None:
        connection.register("customers_frame", frame)
        connection.execute("CREATE TABLE customers AS SELECT * FROM customers_frame")
        connection.unregister("customers_frame")

    warehouses.write(TENANT, create)
    return warehouses


def batch_body(output_table: str, chunk_rows: int = 1000) -> BatchPredictionCreate:
    return BatchPredictionCreate.model_validate(
        {
            "model_name": "churn",
            "version": 1,
            "dataset": {"source": "table", "table": "customers"},
            "output_table": output_table,
            "chunk_rows": chunk_rows,
        }
    )


async def until_ended(runner: JobRunner, record: JobRecord) -> list[tuple[str, JobRecord]]:
    return [event async for event in runner.watch(record) if event is not None]


def test_a_batch_completes_with_pushed_progress_and_is_idempotent(
    tmp_path: Path, tracking_uri: str, model_source: str
) -> None:
    warehouses = warehouse_with_customers(tmp_path / "warehouses", 4000)
    runner = JobRunner(JobStore(tmp_path / "jobs.sqlite"), [BatchPredictionHandler(warehouses)],
                       lambda *_: None)  # fmt: skip
    batches = BatchPredictor(
        runner, lambda _tenant: TrainingLimits(max_concurrent_jobs=1), warehouses
    )
    spec = spec_for(model_source, tracking_uri)

    async def scenario() -> None:
        record, created = await batches.submit(TENANT, batch_body("scores"), spec, "key-1")
        again, created_again = await batches.submit(TENANT, batch_body("scores"), spec, "key-1")
        assert (created, created_again) == (True, False) and again.job_id == record.job_id
        # the running batch uses the tenant's only slot
        with pytest.raises(QuotaExceededError):
            await batches.submit(TENANT, batch_body("other"), spec, None)
        events = await until_ended(runner, record)
        done = batch_response(events[-1][1])
        assert (done.status, done.rows_done, done.rows_total) == ("completed", 4000, 4000)
        assert done.output_table == "predictions.scores" and done.rows_per_second
        rows_done = [current.progress["rows_done"] for kind, current in events
                     if kind == "progress"]  # fmt: skip
        assert rows_done == sorted(rows_done) and rows_done[-1] == 4000

    asyncio.run(scenario())
    written = warehouses.load_frame(
        TENANT,
        DatasetSource(source="table", table="predictions.scores"),
        "dataset",
        ["predicted_class", "score"],
    )
    assert len(written) == 4000 and set(written["predicted_class"]) <= {0, 1}


def test_a_cancelled_batch_writes_no_table(
    tmp_path: Path, tracking_uri: str, model_source: str
) -> None:
    warehouses = warehouse_with_customers(tmp_path / "warehouses", 200_000)
    runner = JobRunner(JobStore(tmp_path / "jobs.sqlite"), [BatchPredictionHandler(warehouses)],
                       lambda *_: None)  # fmt: skip
    batches = BatchPredictor(runner, lambda _tenant: TrainingLimits(), warehouses)
    spec = spec_for(model_source, tracking_uri)

    async def scenario() -> None:
        record, _ = await batches.submit(TENANT, batch_body("cancelled"), spec, None)
        async for event in runner.watch(record):  # until the first chunk is done
            if event is not None and (event[1].progress or {}).get("rows_done"):
                break
        cancelled = await batches.jobs.cancel(TENANT, record.job_id)
        assert batch_response(cancelled).status == "cancelled"
        assert 0 < batch_response(cancelled).rows_done < 200_000

    asyncio.run(scenario())
    assert "cancelled" not in str(warehouses.list_tables(TENANT))
