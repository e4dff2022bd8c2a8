"""The Ray Serve deployment: one per deployed model version, one model load per replica."""

from typing import Any

from ray import serve

from app.serving.model import LoadedModel, ModelSpec


@serve.deployment(
    # a replica answers many single-row requests at once: predictions take well under a
    # millisecond, so queueing in the replica is cheaper than spreading across processes
    max_ongoing_requests=64,
    # Past this many waiting requests Serve refuses at once (BackPressureError -> 503) instead
    # of letting an overload queue without bound: latency stays bounded for the ones it takes.
    max_queued_requests=64,
    health_check_period_s=10,
    health_check_timeout_s=30,
)
class ModelReplica:
    def __init__(self, spec: ModelSpec) -> None:
        # The only place a model is loaded: once per replica, never per request.
        self._model = LoadedModel(spec)

    async def predict(self, records: list[dict[str, Any]]) -> list[dict]:
        # async on purpose: a sync method would hop to a thread pool, and a single-row predict
        # (well under a millisecond) is cheaper than that hop
        return self._model.predict_records(records)

    def check_health(self) -> None:
        # Serve restarts a replica whose check raises; a replica without its model is broken
        if self._model is None:
            raise RuntimeError("the model is not loaded")
