"""Warm workers: single-worker training without per-job start-up.

Ray Train starts a controller, a worker group and dataset shards for every job: tens of seconds
before the first boosting round, even for a 5,000-row table. A single-worker job needs none of
that, so it runs `run_training_job` in a `WarmWorker` actor that stays alive between jobs (its
process has imported XGBoost, scikit-learn and MLflow once) and gets the data as the call's
argument (Ray's object store), without a Ray Data pipeline.

Resources stay honest and bounded:
- A job first reserves exactly its request (CPUs, memory) as a one-bundle placement group, so it
  queues behind other jobs and Serve replicas as any Ray work does; Ray's scheduler picks the
  node, and the job runs on an idle warm worker of that node or a new one pinned there.
- The worker actor itself reserves nothing (num_cpus=0): an idle worker never holds a CPU that a
  job or a Serve replica needs, and `nthread`/`n_jobs` follow the job's request, not the worker.
- An idle worker exits after `idle_seconds` (MLS_WARM_WORKER_IDLE_SECONDS).
- A cancelled or timed-out job kills its worker (that is what stops the computation), so a
  worker is only reused after a job that ended by itself.

GPU jobs and multi-worker jobs keep the job driver and Ray Train (`app.training.service`).
"""

import asyncio
import logging
import time
from dataclasses import dataclass, replace
from typing import Any

import ray
from ray.util.placement_group import placement_group, placement_group_table, remove_placement_group
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy
from threadpoolctl import threadpool_limits

from app.training.driver import DriverOutcome, DriverRequest, run_training_job

logger = logging.getLogger(__name__)

# How often idle workers are looked for.
REAP_INTERVAL_SECONDS = 5.0


@ray.remote(num_cpus=0, max_restarts=0)
class WarmWorker:
    """A reusable process that trains one job at a time, in process."""

    def node_id(self) -> str:
        return ray.get_runtime_context().get_node_id()

    def run(self, request: DriverRequest) -> DriverOutcome:
        # A worker reserves no CPU of its own: the BLAS/OpenMP pools (numpy, scikit-learn,
        # statsmodels) follow the job's request, as nthread/n_jobs do.
        with threadpool_limits(limits=request.cpus):
            return run_training_job(request)


@dataclass
class _Idle:
    worker: Any
    node_id: str
    since: float


class WarmPool:
    """The service's warm workers: idle ones by node, started on demand, reaped when idle."""

    def __init__(self, idle_seconds: float) -> None:
        self.idle_seconds = idle_seconds
        self._idle: list[_Idle] = []
        self._reaper: asyncio.Task | None = None
        self.started = 0  # workers started so far (what reuse saves)

    @property
    def idle_count(self) -> int:
        return len(self._idle)

    async def run(self, request: DriverRequest) -> DriverOutcome:
        """Reserve the job's resources, run it on a warm worker of the reserved node, release."""
        bundle: dict[str, float] = {"CPU": request.cpus}
        if request.memory_bytes is not None:
            bundle["memory"] = request.memory_bytes
        group = placement_group([bundle])
        worker = None
        try:
            await group.ready()
            node_id = await asyncio.to_thread(
                lambda: placement_group_table(group)["bundles_to_node_id"][0]
            )
            worker = self._take(node_id) or self._start(node_id)
            outcome = await worker.run.remote(replace(request, in_process=True))
        except BaseException:
            # Cancelled, timed out or failed: the worker may be mid-job; only killing it stops it.
            if worker is not None:
                ray.kill(worker, no_restart=True)
            raise
        finally:
            remove_placement_group(group)
        self._idle.append(_Idle(worker, node_id, time.monotonic()))
        self._ensure_reaper()
        return outcome

    def _take(self, node_id: str) -> Any:
        for index, idle in enumerate(self._idle):
            if idle.node_id == node_id:
                return self._idle.pop(index).worker
        return None

    def _start(self, node_id: str) -> Any:
        self.started += 1
        logger.info("starting warm training worker %d on node %s", self.started, node_id[:8])
        strategy = NodeAffinitySchedulingStrategy(node_id=node_id, soft=False)
        return WarmWorker.options(scheduling_strategy=strategy).remote()

    def reap(self) -> int:
        """Kill workers idle for longer than the idle time; how many."""
        now = time.monotonic()
        expired = [idle for idle in self._idle if now - idle.since >= self.idle_seconds]
        for idle in expired:
            self._idle.remove(idle)
            ray.kill(idle.worker, no_restart=True)
        return len(expired)

    def _ensure_reaper(self) -> None:
        if self._reaper is None or self._reaper.done():
            self._reaper = asyncio.create_task(self._reap_while_idle(), name="warm-worker-reaper")

    async def _reap_while_idle(self) -> None:
        while self._idle:
            await asyncio.sleep(min(REAP_INTERVAL_SECONDS, self.idle_seconds))
            self.reap()

    def shutdown(self) -> None:
        if self._reaper is not None:
            self._reaper.cancel()
        for idle in self._idle:
            ray.kill(idle.worker, no_restart=True)
        self._idle.clear()
