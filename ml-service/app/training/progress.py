"""Per-job progress: training workers push evaluation history, the service polls a snapshot."""

import ray


@ray.remote(num_cpus=0)
class TrainingProgressActor:
    def __init__(self, total_iterations: int) -> None:
        self._total_iterations = total_iterations
        self._history: list[tuple[int, dict[str, float]]] = []
        self._stage: str | None = None

    def report(self, entries: list[tuple[int, dict[str, float]]], stage: str | None = None) -> None:
        """`stage` names what comes next, for algorithms that fit in one step (forecasting)."""
        self._history.extend(entries)
        if stage is not None:
            self._stage = stage

    def snapshot(self) -> dict:
        iteration, latest = self._history[-1] if self._history else (0, {})
        return {
            "iteration": iteration,
            "total_iterations": self._total_iterations,
            "metrics": latest,
            "stage": self._stage,
        }

    def history(self) -> list[tuple[int, dict[str, float]]]:
        return self._history
