"""Per-job progress on Ray: workers push reports to the progress hub, watchers wait on it.

All jobs share one `ProgressHub` actor (no per-job process); a job's code (a training worker,
anywhere in the cluster) calls `report.remote(...)` on its `JobProgress` handle; the service
long-polls `next_snapshot.remote(version, wait_seconds)`, which returns as soon as a
report newer than `version` arrives (or after `wait_seconds` with nothing new). So a report
reaches the service one Ray call after it was made, not at the next tick of a polling loop, and
the runner fans it out to every event stream in-process (`app.jobs.runner`). SQLite keeps the
latest snapshot as the durable record.
"""

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import Any

import ray
from ray._raylet import PlacementGroupID
from ray.util.placement_group import PlacementGroup, remove_placement_group

logger = logging.getLogger(__name__)


class _Progress:
    """History of (iteration, {metric: value}) reports of one job, and its pace."""

    def __init__(self, total_iterations: int) -> None:
        self._total_iterations = total_iterations
        self._history: list[tuple[int, dict[str, float]]] = []
        # Opened when the job starts, so the pace excludes data loading and queueing.
        self._created = time.monotonic()
        self._last_report = self._created
        self._stage: str | None = None
        # (time, iteration) of the first report: the pace is measured from there on, so the
        # worker's start-up (Ray Train, data shards) does not count as time per iteration.
        self._first_report: tuple[float, int] | None = None
        self.placement_groups: set[str] = set()
        self.version = 0
        self.changed = asyncio.Event()

    def report(self, entries: list[tuple[int, dict[str, float]]], stage: str | None) -> None:
        self._history.extend(entries)
        self._last_report = time.monotonic()
        if self._first_report is None and self._history:
            self._first_report = (self._last_report, self._history[-1][0])
        if stage is not None:
            self._stage = stage
        self.version += 1
        self.changed.set()
        self.changed = asyncio.Event()

    def snapshot(self) -> dict:
        iteration, latest = self._history[-1] if self._history else (0, {})
        remaining = None
        if iteration > 0:
            # Seconds per iteration so far times the iterations left: boosting rounds and
            # epochs take about the same time each, so a straight line is a fair estimate.
            since, first_iteration = self._first_report or (self._created, 0)
            if iteration == first_iteration:  # one report so far: all we have is the start
                since, first_iteration = self._created, 0
            pace = (self._last_report - since) / (iteration - first_iteration)
            remaining = round(pace * max(0, self._total_iterations - iteration), 1)
        return {
            "iteration": iteration,
            "total_iterations": self._total_iterations,
            "metrics": latest,
            "estimated_remaining_seconds": remaining,
            "stage": self._stage,
        }

    def history(self) -> list[tuple[int, dict[str, float]]]:
        return self._history


@ray.remote(num_cpus=0)
class ProgressHub:
    """The progress of every running job, in one long-lived async actor: a job opens its entry
    instead of starting an actor (a process) of its own. Every method runs on the actor's event
    loop, so a waiting `next_snapshot` never blocks a worker's `report`."""

    def __init__(self) -> None:
        self._jobs: dict[str, _Progress] = {}

    async def open(self, job_id: str, total_iterations: int) -> None:
        self._jobs[job_id] = _Progress(total_iterations)

    async def close(self, job_id: str) -> None:
        self._jobs.pop(job_id, None)

    async def report(
        self, job_id: str, entries: list[tuple[int, dict[str, float]]], stage: str | None = None
    ) -> None:
        """`stage` names what comes next, for algorithms that fit in one step (forecasting)."""
        job = self._jobs.get(job_id)
        if job is not None:  # a report after the job ended (cancelled) goes nowhere
            job.report(entries, stage)

    async def add_placement_group(self, job_id: str, placement_group_id: str) -> None:
        self._jobs[job_id].placement_groups.add(placement_group_id)

    async def placement_groups(self, job_id: str) -> list[str]:
        return sorted(self._jobs[job_id].placement_groups)

    async def next_snapshot(
        self, job_id: str, after_version: int, wait_seconds: float
    ) -> tuple[int, dict]:
        """(version, snapshot) as soon as there is a report newer than `after_version`; the
        current ones after `wait_seconds` without one."""
        job = self._jobs[job_id]
        if job.version <= after_version:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(job.changed.wait(), wait_seconds)
        return job.version, job.snapshot()

    async def snapshot(self, job_id: str) -> dict:
        return self._jobs[job_id].snapshot()

    async def history(self, job_id: str) -> list[tuple[int, dict[str, float]]]:
        return self._jobs[job_id].history()


@dataclass(frozen=True)
class _BoundMethod:
    method: Any
    job_id: str

    def remote(self, *args: Any, **kwargs: Any) -> Any:
        return self.method.remote(self.job_id, *args, **kwargs)


@dataclass(frozen=True)
class JobProgress:
    """One job's handle on the hub, passed to its workers (it pickles): `report.remote(entries,
    stage=None)`, `history.remote()`, `add_placement_group.remote(id)` and, for the service,
    `next_snapshot.remote(version, wait_seconds)`, `snapshot.remote()`,
    `placement_groups.remote()`; each returns an ObjectRef, as an actor's method would."""

    hub: Any
    job_id: str

    def __getattr__(self, name: str) -> _BoundMethod:
        if name.startswith("_"):
            raise AttributeError(name)
        return _BoundMethod(getattr(self.hub, name), self.job_id)


def register_worker_placement_group(progress: Any) -> None:
    """Called first in a Ray Train worker loop: records the placement group it runs in.

    Ray Train's controller removes its placement group when a run ends by itself, but a
    placement group lives as long as the Ray job (the ML Service), not its creator actor: when
    a cancel or the duration limit kills the job driver, the service removes it by this id, or
    its CPUs would stay reserved until the ML Service restarts.
    """
    group = ray.util.get_current_placement_group()
    if group is not None:
        ray.get(progress.add_placement_group.remote(group.id.hex()))


def remove_placement_groups(placement_group_ids: list[str]) -> None:
    for placement_group_id in placement_group_ids:
        try:
            remove_placement_group(PlacementGroup(PlacementGroupID.from_hex(placement_group_id)))
        except Exception:  # already removed by Ray Train's own clean-up
            logger.debug("placement group %s already removed", placement_group_id)
