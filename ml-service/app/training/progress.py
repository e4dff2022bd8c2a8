"""Per-job progress: training workers push evaluation history, the service polls a snapshot."""

import time

import ray


@ray.remote(num_cpus=0)
class TrainingProgressActor:
    def __init__(self, total_iterations: int) -> None:
        self._total_iterations = total_iterations
        self._history: list[tuple[int, dict[str, float]]] = []
        # Created when the driver starts, so the pace excludes data loading and queueing.
        self._created = time.monotonic()
        self._last_report = self._created
        self._stage: str | None = None

    def report(self, entries: list[tuple[int, dict[str, float]]], stage: str | None = None) -> None:
        """`stage` names what comes next, for algorithms that fit in one step (forecasting)."""
        self._history.extend(entries)
        self._last_report = time.monotonic()
        if stage is not None:
            self._stage = stage

    def snapshot(self) -> dict:
        iteration, latest = self._history[-1] if self._history else (0, {})
        remaining = None
        if iteration > 0:
            # Seconds per iteration so far times the iterations left: boosting rounds and
            # epochs take about the same time each, so a straight line is a fair estimate.
            pace = (self._last_report - self._created) / iteration
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
