"""Batch prediction: a SQL source or table of the tenant's warehouse in, a predictions table out.

The model runs in the ML Service's process on whole chunks (one native `predict` per 50k rows),
which is what makes it fast: no per-row work, no Serve hop. Output goes to
`predictions.<output_table>` of the same warehouse, so a batch can never overwrite its source
tables, and in one statement at the end, so a failed or cancelled batch leaves no partial table.

A batch is a `batch_prediction` job of the shared runner (`app.jobs.runner`): it counts in the
tenant's quota of active jobs, a repeated Idempotency-Key returns the same batch, it can be
cancelled (between chunks), its progress (rows done) is pushed to event streams, and one that a
restart interrupted reads as failed, saying so.
"""

import asyncio
import logging
import threading
import time
from dataclasses import asdict
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from app.datasets.schemas import DatasetSource
from app.datasets.warehouse import PREDICTIONS_SCHEMA, WarehouseManager
from app.jobs.runner import JobContext, JobHandler, JobOutcome, JobRunner
from app.jobs.store import JobRecord
from app.serving.model import LoadedModel, ModelSpec
from app.serving.schemas import BatchPrediction, BatchPredictionCreate
from app.training.limits import LimitsFor

logger = logging.getLogger(__name__)

KIND = "batch_prediction"
OUTPUT_SCHEMA = PREDICTIONS_SCHEMA


class BatchCancelledError(Exception):
    """Raised in the worker thread between chunks once the job was cancelled."""


def batch_response(record: JobRecord) -> BatchPrediction:
    result = record.result or {}
    progress = record.progress or {}
    return BatchPrediction(
        batch_id=record.job_id,
        status=record.status,
        rows_total=result.get("rows_total", progress.get("rows_total")),
        rows_done=result.get("rows_done", progress.get("rows_done", 0)),
        output_table=f"{OUTPUT_SCHEMA}.{record.spec['output_table']}",
        rows_per_second=result.get("rows_per_second"),
        predict_rows_per_second=result.get("predict_rows_per_second"),
        error=record.error,
        prediction_columns=result.get("prediction_columns"),
    )


class BatchPredictor:
    """Submission, reading and cancelling of batch predictions (the runner does the rest)."""

    def __init__(
        self, runner: JobRunner, limits_for: LimitsFor, warehouses: WarehouseManager
    ) -> None:
        self.jobs = runner.of_kind(KIND)
        self._limits_for = limits_for
        self._warehouses = warehouses

    async def submit(
        self,
        tenant_id: str,
        body: BatchPredictionCreate,
        spec: ModelSpec,
        idempotency_key: str | None,
    ) -> tuple[JobRecord, bool]:
        """The batch and whether this call created it (False: an idempotent repeat). A source
        DuckDB cannot read is 422 naming `dataset.query`/`dataset.table` here, not a failed job."""
        request = body.model_dump(mode="json")
        if idempotency_key is not None:
            existing = await self.jobs.replay(tenant_id, idempotency_key, request)
            if existing is not None:
                return existing, False
        # Described (not run) once: the source's columns are checked again when the job reads it.
        await self._warehouses.offload(
            self._warehouses.describe,
            tenant_id,
            DatasetSource(**body.dataset.model_dump()),
            "dataset",
        )
        job_spec = {
            "model": asdict(spec),
            "dataset": {
                "source": body.dataset.source,
                "query": body.dataset.query,
                "table": body.dataset.table,
            },
            "output_table": body.output_table,
            "chunk_rows": body.chunk_rows,
        }
        # A batch counts against the same active-job quota as training.
        limits = self._limits_for(tenant_id)
        return await self.jobs.submit(
            tenant_id,
            f"{OUTPUT_SCHEMA}.{body.output_table}",
            job_spec,
            idempotency_key,
            limits.max_concurrent_jobs,
            request,
        )


class BatchPredictionHandler(JobHandler):
    """Runs a batch in a worker thread of the ML Service; progress per chunk."""

    kind = KIND
    id_prefix = "batch"
    uses_compute = True
    label = "batch prediction"
    # What goes wrong in a batch (a missing feature, a value the model cannot take) is about
    # the user's data or model: shown as it is.
    readable_errors = (Exception,)

    def __init__(self, warehouses: WarehouseManager) -> None:
        self._warehouses = warehouses
        self._models: dict[str, LoadedModel] = {}
        self._lock = threading.Lock()

    async def run(self, job: JobRecord, context: JobContext) -> JobOutcome:
        stop = threading.Event()
        work = asyncio.ensure_future(asyncio.to_thread(self._predict, job, context, stop))
        try:
            # Shielded: on cancel the thread is told to stop and awaited, so it never writes
            # an output table after the job ended.
            return await asyncio.shield(work)
        except asyncio.CancelledError:
            stop.set()
            await asyncio.wait({work})
            if not work.cancelled() and work.exception() is not None:
                logger.debug("batch %s stopped: %s", job.job_id, work.exception())
            raise

    def _model(self, spec: ModelSpec) -> LoadedModel:
        with self._lock:
            model = self._models.get(spec.source)
            if model is None:
                model = self._models[spec.source] = LoadedModel(spec)
            return model

    def _predict(self, job: JobRecord, context: JobContext, stop: threading.Event) -> JobOutcome:
        stored: dict[str, Any] = job.spec
        started_job = time.perf_counter()
        spec = ModelSpec(
            **stored["model"] | {"features": [tuple(item) for item in stored["model"]["features"]]}
        )
        dataset = DatasetSource(**stored["dataset"])
        output_table: str = stored["output_table"]
        chunk_rows: int = stored["chunk_rows"]
        model = self._model(spec)
        schema = self._warehouses.describe(job.tenant_id, dataset, "dataset")
        columns = [column.name for column in schema.columns]
        missing = [name for name, _ in spec.features if name not in columns]
        if missing:
            raise ValueError(f"the dataset lacks the model's features: {', '.join(missing)}")
        frame = self._warehouses.load_frame(job.tenant_id, dataset, "dataset", columns)
        context.report_progress_threadsafe({"rows_total": len(frame), "rows_done": 0})
        problems = model.table_problems(frame)
        if problems:
            # the checks of online predict: a bad value is the user's to fix, never a silent
            # missing value
            raise ValueError(
                "the dataset holds values the model cannot score: " + "; ".join(problems)
            )
        wanted = (
            ["predicted_class", "score"]
            if spec.task_type == "classification"
            else ["predicted_value"]
        )
        prediction_columns = _free_names(wanted, columns)
        started = time.perf_counter()
        parts = []
        for start in range(0, len(frame), chunk_rows):
            if stop.is_set():
                raise BatchCancelledError(job.job_id)
            chunk = frame.iloc[start : start + chunk_rows]
            parts.append(model.raw_predict(model.coerce(chunk)))
            context.report_progress_threadsafe(
                {"rows_total": len(frame), "rows_done": start + len(chunk)}
            )
        predicted = np.concatenate(parts) if parts else np.empty((0,))
        elapsed = time.perf_counter() - started
        output = frame.copy()
        if spec.task_type == "classification":
            classes = np.asarray(spec.classes or list(range(predicted.shape[1])), dtype=object)
            best = predicted.argmax(axis=1) if len(frame) else np.empty(0, dtype=int)
            class_column, score_column = prediction_columns
            output[class_column] = pd.Series(classes[best]).infer_objects().to_numpy()
            output[score_column] = predicted.max(axis=1) if len(frame) else []
        else:
            output[prediction_columns[0]] = predicted

        def write(connection: duckdb.DuckDBPyConnection) -> None:
            connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{OUTPUT_SCHEMA}"')
            connection.register("batch_output", output)
            connection.execute(
                f'CREATE OR REPLACE TABLE "{OUTPUT_SCHEMA}"."{output_table}" AS '
                "SELECT * FROM batch_output"
            )
            connection.unregister("batch_output")

        if stop.is_set():
            raise BatchCancelledError(job.job_id)
        self._warehouses.write(job.tenant_id, write)
        total = time.perf_counter() - started_job
        return JobOutcome(
            result={
                "rows_total": len(frame),
                "rows_done": len(frame),
                "rows_per_second": round(len(frame) / total, 1) if total > 0 else None,
                "predict_rows_per_second": round(len(frame) / elapsed, 1) if elapsed > 0 else None,
                "prediction_columns": prediction_columns,
            },
            progress={"rows_total": len(frame), "rows_done": len(frame)},
        )


def _free_names(wanted: list[str], taken: list[str]) -> list[str]:
    """`wanted`, each with the first suffix `_1`, `_2`... that no source column has: the output
    keeps every source column as it was."""
    used = set(taken)
    names = []
    for name in wanted:
        candidate, suffix = name, 0
        while candidate in used:
            suffix += 1
            candidate = f"{name}_{suffix}"
        used.add(candidate)
        names.append(candidate)
    return names
