"""The training benchmark stays runnable; it is run by hand (./bench/training/run.sh), not here."""

import importlib.util
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "training" / "bench.py"


def test_the_benchmark_shows_its_options() -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH), "--help"], capture_output=True, text=True, check=True
    )
    assert "--rows" in result.stdout


def test_the_benchmark_data_is_seeded() -> None:
    spec = importlib.util.spec_from_file_location("bench_training", BENCH)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    first = bench.synthetic_frame(1000, 20, 42)
    assert first.equals(bench.synthetic_frame(1000, 20, 42))
    assert list(first.columns)[-1] == "label"
    assert 0.2 < first["label"].mean() < 0.8
