"""The job runner and store, for any kind of job: quota across kinds, idempotency per kind,
cancel, the time limit, failures, pushed events, and the move of an old training table.

A small `nap` kind (sleeps, reports progress, may fail) stands for a real kind: the runner is the
same code for every kind, and a nap can be made to last, fail or overrun on purpose."""

import asyncio
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from app.errors import ConflictError, InvalidFieldError, NotFoundError, QuotaExceededError
from app.jobs.runner import (
    JobContext,
    JobHandler,
    JobOutcome,
    JobRunner,
    TimeLimit,
)
from app.jobs.store import JobRecord, JobStore, NewJob


class NapHandler(JobHandler):
    kind = "nap"
    id_prefix = "nap"
    uses_compute = True
    label = "nap"

    def __init__(self) -> None:
        self.released: list[str] = []

    def time_limit(self, job: JobRecord) -> TimeLimit | None:
        seconds = job.spec.get("time_limit")
        return TimeLimit(seconds, f"nap limit ({seconds} s)") if seconds else None

    async def run(self, job: JobRecord, context: JobContext) -> JobOutcome:
        await context.set_mlflow_run_id(f"run-of-{job.job_id}")
        await context.report_progress({"step": 1})
        try:
            await asyncio.sleep(job.spec.get("seconds", 0))
        except asyncio.CancelledError:
            self.released.append(job.job_id)
            raise
        if job.spec.get("fail"):
            raise RuntimeError("the nap went wrong\nsecond line")
        await context.report_progress({"step": 2})
        return JobOutcome(result={"slept": job.spec.get("seconds", 0)})


class ListHandler(NapHandler):
    """A kind that uses no compute (say, listing files): outside the quota."""

    kind = "list"
    id_prefix = "list"
    uses_compute = False
    label = "listing"


class Harness:
    def __init__(self, tmp_path: Path) -> None:
        self.store = JobStore(tmp_path / "jobs.sqlite")
        self.nap = NapHandler()
        self.ended_runs: list[tuple[str, str]] = []
        self.runner = JobRunner(
            self.store,
            [self.nap, ListHandler()],
            lambda run_id, status: self.ended_runs.append((run_id, status)),
        )

    async def submit(
        self, kind: str = "nap", key: str | None = None, limit: int = 5, **spec: Any
    ) -> JobRecord:
        record, _ = await self.runner.submit("acme-corp", kind, "a nap", spec, key, limit)
        return record

    async def ended(self, job_id: str) -> JobRecord:
        deadline = time.monotonic() + 10
        while True:
            record = await self.runner.get("acme-corp", job_id)
            if not record.active:
                return record
            assert time.monotonic() < deadline, record
            await asyncio.sleep(0.02)


def test_a_job_runs_to_completion_with_its_progress_and_run(tmp_path: Path) -> None:
    async def scenario() -> None:
        harness = Harness(tmp_path)
        record = await harness.submit(seconds=0.05)
        assert record.job_id.startswith("nap-") and record.status == "queued"
        done = await harness.ended(record.job_id)
        assert (done.status, done.result, done.progress) == ("completed", {"slept": 0.05},
                                                             {"step": 2})  # fmt: skip
        assert done.mlflow_run_ids == [f"run-of-{record.job_id}"]
        assert done.started_at is not None and done.finished_at is not None
        assert harness.ended_runs == []

    asyncio.run(scenario())


def test_quota_counts_every_kind_that_uses_compute(tmp_path: Path) -> None:
    async def scenario() -> None:
        harness = Harness(tmp_path)
        await harness.submit(seconds=5, limit=2)
        # another kind that uses compute counts in the same quota (the store's, of any kind)
        harness.store.submit(
            "acme-corp",
            None,
            NewJob("batch_prediction", "batch", "scores", {}, uses_compute=True),
            2,
        )
        with pytest.raises(QuotaExceededError, match="already has 2 active jobs"):
            await harness.submit(seconds=5, limit=2)
        # a kind without compute is never refused, and never counted
        listing = await harness.submit("list", seconds=0, limit=2)
        assert listing.job_id.startswith("list-")
        # another tenant has its own quota
        _, created = await harness.runner.submit("globex", "nap", "n", {}, None, 2)
        assert created
        await harness.runner.shutdown()

    asyncio.run(scenario())


def test_idempotency_key_is_per_tenant_and_kind(tmp_path: Path) -> None:
    async def scenario() -> None:
        harness = Harness(tmp_path)
        first, created_first = await harness.runner.submit(
            "acme-corp", "nap", "n", {"seconds": 5}, "key-1", 5
        )
        again, created_again = await harness.runner.submit(
            "acme-corp", "nap", "n", {"seconds": 5}, "key-1", 5
        )
        listing, created_listing = await harness.runner.submit(
            "acme-corp", "list", "n", {}, "key-1", 5
        )
        assert (created_first, created_again, created_listing) == (True, False, True)
        assert again.job_id == first.job_id != listing.job_id
        assert len(harness.store.list_jobs("acme-corp", "nap", None, 10)) == 1
        await harness.runner.shutdown()

    asyncio.run(scenario())


def test_a_key_reused_with_another_body_is_422_naming_the_key(tmp_path: Path) -> None:
    async def scenario() -> None:
        harness = Harness(tmp_path)
        body = {"name": "n", "seconds": 5}
        first, _ = await harness.runner.submit(
            "acme-corp", "nap", "n", {"seconds": 5}, "key-1", 5, body
        )
        # the same body in another key order is a replay
        again, created = await harness.runner.submit(
            "acme-corp", "nap", "n", {"seconds": 5}, "key-1", 5, {"seconds": 5, "name": "n"}
        )
        assert (again.job_id, created) == (first.job_id, False)
        with pytest.raises(InvalidFieldError) as refused:
            await harness.runner.submit(
                "acme-corp", "nap", "n", {"seconds": 6}, "key-1", 5, {**body, "seconds": 6}
            )
        assert refused.value.field == "Idempotency-Key"
        assert f"used for job {first.job_id} with a different request body" in str(refused.value)
        with pytest.raises(InvalidFieldError):
            await harness.runner.replay("acme-corp", "nap", "key-1", {**body, "seconds": 6})
        replayed = await harness.runner.replay("acme-corp", "nap", "key-1", body)
        assert replayed is not None and replayed.job_id == first.job_id
        assert len(harness.store.list_jobs("acme-corp", "nap", None, 10)) == 1
        await harness.runner.shutdown()

    asyncio.run(scenario())


def test_cancel_stops_the_job_releases_it_and_kills_its_run(tmp_path: Path) -> None:
    async def scenario() -> None:
        harness = Harness(tmp_path)
        record = await harness.submit(seconds=30)
        async for event in harness.runner.watch(record):  # until it naps
            if event is not None and event[1].progress:
                break
        started = time.monotonic()
        cancelled = await harness.runner.cancel("acme-corp", record.job_id, "nap")
        assert time.monotonic() - started < 1
        assert cancelled.status == "cancelled" and cancelled.finished_at is not None
        assert harness.nap.released == [record.job_id]
        assert harness.ended_runs == [(f"run-of-{record.job_id}", "KILLED")]
        with pytest.raises(ConflictError, match="already ended with status cancelled"):
            await harness.runner.cancel("acme-corp", record.job_id, "nap")
        with pytest.raises(NotFoundError):
            await harness.runner.cancel("globex", record.job_id, "nap")
        with pytest.raises(NotFoundError):  # a job of another kind is not found either
            await harness.runner.cancel("acme-corp", record.job_id, "list")

    asyncio.run(scenario())


def test_a_job_over_its_time_limit_fails_naming_the_limit(tmp_path: Path) -> None:
    async def scenario() -> None:
        harness = Harness(tmp_path)
        record = await harness.submit(seconds=30, time_limit=0.3)
        done = await harness.ended(record.job_id)
        assert done.status == "failed"
        assert done.error == "stopped after 0 s: over the tenant's nap limit (0.3 s)"
        assert harness.nap.released == [record.job_id]
        assert harness.ended_runs == [(f"run-of-{record.job_id}", "FAILED")]

    asyncio.run(scenario())


def test_a_failure_reads_as_one_sentence(tmp_path: Path) -> None:
    async def scenario() -> None:
        harness = Harness(tmp_path)
        record = await harness.submit(fail=True)
        done = await harness.ended(record.job_id)
        assert done.error == "nap failed: RuntimeError: the nap went wrong"
        assert harness.ended_runs == [(f"run-of-{record.job_id}", "FAILED")]

    asyncio.run(scenario())


def test_watchers_get_each_report_pushed_at_once(tmp_path: Path) -> None:
    async def scenario() -> None:
        harness = Harness(tmp_path)
        record = await harness.submit(seconds=1.0)
        seen: list[tuple[str, float]] = []
        started = time.monotonic()

        async def watch() -> list[tuple[str, str, dict | None]]:
            events = []
            async for event in harness.runner.watch(record):
                assert event is not None
                kind, current = event
                seen.append((kind, time.monotonic() - started))
                events.append((kind, current.status, current.progress))
            return events

        first, second = await asyncio.gather(watch(), watch())
        # A watch starts from the job's current state: a watcher that subscribed while the job
        # was still queued also sees that status; from `running` on, both see every report.
        assert [e for e in first if e[1] != "queued"] == [e for e in second if e[1] != "queued"]
        assert [kind for kind, _, _ in first][-3:] == ["progress", "status", "end"]
        assert first[-1] == ("end", "completed", {"step": 2})
        # The last report comes 1 s after the start; pushed, it arrives well before a re-read.
        last_progress = max(at for kind, at in seen if kind == "progress")
        assert 1.0 <= last_progress < 1.3

    asyncio.run(scenario())


def test_an_old_training_table_moves_into_jobs(tmp_path: Path) -> None:
    path = tmp_path / "jobs.sqlite"
    with sqlite3.connect(path) as connection:
        connection.executescript(
            """
            CREATE TABLE training_jobs (
                job_id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, idempotency_key TEXT,
                name TEXT NOT NULL, algorithm TEXT NOT NULL, task_type TEXT NOT NULL,
                config TEXT NOT NULL, status TEXT NOT NULL, progress TEXT, result TEXT,
                error TEXT, mlflow_run_id TEXT, created_at TEXT NOT NULL, started_at TEXT,
                finished_at TEXT, UNIQUE (tenant_id, idempotency_key));
            INSERT INTO training_jobs VALUES ('train-0123456789ab', 'acme-corp', 'k', 'churn',
                'xgboost', 'classification', '{"hyperparameters": {"max_depth": 4}}',
                'completed', '{"iteration": 100}', '{"metrics": {"auc": 0.9}}', NULL, 'run-1',
                '2026-01-01T00:00:00.000+00:00', '2026-01-01T00:00:01.000+00:00',
                '2026-01-01T00:01:00.000+00:00');
            """
        )
    store = JobStore(path)
    moved = store.get("acme-corp", "train-0123456789ab", "training")
    assert moved is not None
    assert moved.spec == {
        "hyperparameters": {"max_depth": 4},
        "algorithm": "xgboost",
        "task_type": "classification",
    }
    assert (moved.status, moved.progress, moved.result) == (
        "completed",
        {"iteration": 100},
        {"metrics": {"auc": 0.9}},
    )
    assert moved.mlflow_run_ids == ["run-1"] and moved.idempotency_key == "k"
    assert moved.created_at.year == 2026
    # opened again: nothing moves twice, nothing is lost
    assert len(JobStore(path).list_jobs("acme-corp", "training", None, 10)) == 1
