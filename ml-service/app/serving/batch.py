"""Batch prediction: a SQL source or table of the tenant's warehouse in, a predictions table out.

The model runs in the ML Service's process on whole chunks (one native `predict` per 50k rows),
which is what makes it fast: no per-row work, no Serve hop. Output goes to
`predictions.<output_table>` of the same warehouse, so a batch can never overwrite its source
tables, and in one statement at the end, so a failed batch leaves no partial table. Jobs are
recorded in `BatchJobStore` at start, per chunk and at the end; one that a restart interrupted
reads as failed, saying so.
"""

import logging
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field

import duckdb
import numpy as np
import pandas as pd

from app.datasets.schemas import DatasetSource
from app.datasets.warehouse import WarehouseManager
from app.errors import NotFoundError
from app.serving.model import LoadedModel, ModelSpec
from app.serving.schemas import BatchPrediction
from app.serving.store import BatchJobStore

logger = logging.getLogger(__name__)

OUTPUT_SCHEMA = "predictions"
INTERRUPTED = (
    "the ML Service restarted while this batch ran; no output table was written, submit it again"
)


@dataclass
class BatchJob:
    batch_id: str
    tenant_id: str
    output_table: str
    status: str = "running"
    rows_total: int | None = None
    rows_done: int = 0
    rows_per_second: float | None = None
    predict_rows_per_second: float | None = None
    error: str | None = None
    started: float = field(default_factory=time.perf_counter)

    def stored(self) -> dict:
        return {key: value for key, value in asdict(self).items() if key != "started"}

    def response(self) -> BatchPrediction:
        return BatchPrediction(
            batch_id=self.batch_id,
            status=self.status,  # type: ignore[arg-type]
            rows_total=self.rows_total,
            rows_done=self.rows_done,
            output_table=f"{OUTPUT_SCHEMA}.{self.output_table}",
            rows_per_second=self.rows_per_second,
            predict_rows_per_second=self.predict_rows_per_second,
            error=self.error,
        )


class BatchPredictor:
    def __init__(self, warehouses: WarehouseManager, store: BatchJobStore) -> None:
        self._warehouses = warehouses
        self._store = store
        # the running jobs of this process; finished ones are read from the store
        self._jobs: dict[str, BatchJob] = {}
        self._models: dict[str, LoadedModel] = {}
        self._lock = threading.Lock()
        interrupted = store.fail_running(INTERRUPTED)
        if interrupted:
            logger.warning("%d batch predictions were interrupted by a restart", interrupted)

    def get(self, tenant_id: str, batch_id: str) -> BatchPrediction:
        job = self._jobs.get(batch_id)
        if job is not None and job.tenant_id == tenant_id:
            return job.response()
        stored = self._store.get(tenant_id, batch_id)
        if stored is None:
            raise NotFoundError(f"batch prediction {batch_id} does not exist")
        return BatchJob(**stored).response()

    def start(self, tenant_id: str, output_table: str) -> BatchJob:
        job = BatchJob(batch_id=f"batch-{uuid.uuid4().hex[:12]}", tenant_id=tenant_id,
                       output_table=output_table)  # fmt: skip
        self._store.save(job.batch_id, tenant_id, job.stored())
        self._jobs[job.batch_id] = job
        return job

    def _model(self, spec: ModelSpec) -> LoadedModel:
        with self._lock:
            model = self._models.get(spec.source)
            if model is None:
                model = self._models[spec.source] = LoadedModel(spec)
            return model

    def run(self, job: BatchJob, spec: ModelSpec, dataset: DatasetSource, chunk_rows: int) -> None:
        """Runs in a worker thread; the job records progress and the outcome."""
        try:
            self._run(job, spec, dataset, chunk_rows)
            job.status = "completed"
        except Exception as error:  # reported on the job; the service keeps running
            logger.exception("batch prediction %s failed", job.batch_id)
            job.status = "failed"
            job.error = str(error)[:500]
        finally:
            self._store.save(job.batch_id, job.tenant_id, job.stored())
            self._jobs.pop(job.batch_id, None)

    def _run(self, job: BatchJob, spec: ModelSpec, dataset: DatasetSource, chunk_rows: int) -> None:
        model = self._model(spec)
        schema = self._warehouses.describe(job.tenant_id, dataset, "dataset")
        columns = [column.name for column in schema.columns]
        missing = [name for name, _ in spec.features if name not in columns]
        if missing:
            raise ValueError(f"the dataset lacks the model's features: {', '.join(missing)}")
        frame = self._warehouses.load_frame(job.tenant_id, dataset, "dataset", columns)
        job.rows_total = len(frame)
        started = time.perf_counter()
        parts = []
        for start in range(0, len(frame), chunk_rows):
            chunk = frame.iloc[start : start + chunk_rows]
            parts.append(model.raw_predict(model.coerce(chunk)))
            job.rows_done = start + len(chunk)
            self._store.save(job.batch_id, job.tenant_id, job.stored())
        predicted = np.concatenate(parts) if parts else np.empty((0,))
        elapsed = time.perf_counter() - started
        job.predict_rows_per_second = round(len(frame) / elapsed, 1) if elapsed > 0 else None
        output = frame.copy()
        if spec.task_type == "classification":
            classes = np.asarray(spec.classes or list(range(predicted.shape[1])), dtype=object)
            best = predicted.argmax(axis=1) if len(frame) else np.empty(0, dtype=int)
            output["predicted_class"] = pd.Series(classes[best]).infer_objects().to_numpy()
            output["score"] = predicted.max(axis=1) if len(frame) else []
        else:
            output["predicted_value"] = predicted

        def write(connection: duckdb.DuckDBPyConnection) -> None:
            connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{OUTPUT_SCHEMA}"')
            connection.register("batch_output", output)
            connection.execute(
                f'CREATE OR REPLACE TABLE "{OUTPUT_SCHEMA}"."{job.output_table}" AS '
                "SELECT * FROM batch_output"
            )
            connection.unregister("batch_output")

        self._warehouses.write(job.tenant_id, write)
        total = time.perf_counter() - job.started
        job.rows_per_second = round(len(frame) / total, 1) if total > 0 else None
