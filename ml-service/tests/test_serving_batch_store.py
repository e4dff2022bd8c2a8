"""Batch prediction jobs outlive the process: finished ones stay readable, and one a restart
interrupted reads as failed, saying so (no running job that never ends)."""

from pathlib import Path

import pytest

from app.errors import NotFoundError
from app.serving.batch import INTERRUPTED, BatchPredictor
from app.serving.store import BatchJobStore


def test_jobs_survive_a_restart_and_interrupted_ones_read_as_failed(tmp_path: Path) -> None:
    path = tmp_path / "serving.sqlite"
    first = BatchPredictor(warehouses=None, store=BatchJobStore(path))  # type: ignore[arg-type]
    finished = first.start("acme-corp", "scores")
    finished.status, finished.rows_total, finished.rows_done = "completed", 10, 10
    first._store.save(finished.batch_id, "acme-corp", finished.stored())
    interrupted = first.start("acme-corp", "more_scores")
    interrupted.rows_total, interrupted.rows_done = 100, 40
    first._store.save(interrupted.batch_id, "acme-corp", interrupted.stored())
    first._store.close()

    restarted = BatchPredictor(warehouses=None, store=BatchJobStore(path))  # type: ignore[arg-type]

    done = restarted.get("acme-corp", finished.batch_id)
    assert (done.status, done.rows_done, done.output_table) == (
        "completed",
        10,
        "predictions.scores",
    )
    cut = restarted.get("acme-corp", interrupted.batch_id)
    assert (cut.status, cut.rows_done, cut.error) == ("failed", 40, INTERRUPTED)
    with pytest.raises(NotFoundError):
        restarted.get("globex", finished.batch_id)
