"""MLflow set-up: tracking URI, one experiment per tenant, and the run of each training job.

The job driver (a Ray task) logs params, metrics and the model into the run created here, so the
run id is known — and stored on the job — before any training starts.
"""

import threading
from pathlib import Path

from mlflow.entities import RunStatus
from mlflow.tracking import MlflowClient


def experiment_name(tenant_id: str) -> str:
    return f"{tenant_id}/training"


class Tracking:
    def __init__(self, tracking_uri: str, artifact_root: Path) -> None:
        self.tracking_uri = tracking_uri
        self._artifact_root = artifact_root
        self._client = MlflowClient(tracking_uri=tracking_uri)
        self._experiment_ids: dict[str, str] = {}
        self._lock = threading.Lock()

    def ping(self) -> None:
        """Raise when the tracking backend cannot be reached (also creates its tables)."""
        self._client.search_experiments(max_results=1)

    def tenant_artifact_uri(self, tenant_id: str) -> str:
        """Artifacts are kept per tenant so one tenant's models never share a folder with
        another's."""
        location = self._artifact_root / tenant_id
        location.mkdir(parents=True, exist_ok=True)
        return location.as_uri()

    def experiment_id(self, tenant_id: str) -> str:
        with self._lock:
            cached = self._experiment_ids.get(tenant_id)
            if cached is not None:
                return cached
            name = experiment_name(tenant_id)
            experiment = self._client.get_experiment_by_name(name)
            if experiment is not None:
                experiment_id = experiment.experiment_id
            else:
                experiment_id = self._client.create_experiment(
                    name,
                    artifact_location=self.tenant_artifact_uri(tenant_id),
                    tags={"tenant_id": tenant_id},
                )
            self._experiment_ids[tenant_id] = experiment_id
            return experiment_id

    def start_run(self, tenant_id: str, job_id: str, run_name: str, algorithm: str) -> str:
        run = self._client.create_run(
            self.experiment_id(tenant_id),
            run_name=run_name,
            tags={"tenant_id": tenant_id, "job_id": job_id, "algorithm": algorithm},
        )
        return run.info.run_id

    def end_run(self, run_id: str, status: str) -> None:
        """Close a run the job driver could not finish (FAILED or KILLED)."""
        if self._client.get_run(run_id).info.status == RunStatus.to_string(RunStatus.RUNNING):
            self._client.set_terminated(run_id, status=status)
