"""Profile N rows x 20 columns through the API and with ydata-profiling (minimal) on the same data.

Each repeat profiles twice: with the statistics ydata's minimal mode computes (`"correlations":
[]`: minimal mode computes no correlation matrix) and the default full profile (Pearson,
Spearman, Cramér's V, η); speed-ups are against the median of each.

Numeric, categorical, datetime and boolean columns with some missing values, generated with a
fixed seed and written once as Parquet: uploaded through the AI Service into a throw-away stack,
profiled there (every row, no sampling), and given to ydata-profiling from the same file in its own
venv. Prints and saves both times, the ML Service's memory growth, and the largest relative
difference per statistic (means, stds, quantiles, missing and distinct counts must agree).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from stack import start_stack

TENANT, API_KEY = "bench-eda", "bench-eda-key"
STATISTICS = {"mean": "mean", "std": "std", "5%": "p5", "25%": "p25", "50%": "median",
              "75%": "p75", "95%": "p95"}  # fmt: skip


def make_data(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = {}
    for i in range(10):
        values = rng.normal(50 * i, 10 + i, rows) if i % 2 else rng.lognormal(1, 0.5 + i / 10, rows)
        values[rng.random(rows) < 0.02 * (i % 3)] = np.nan
        frame[f"num_{i}"] = values
    for i in range(3):
        frame[f"int_{i}"] = rng.integers(0, 1000 * (i + 1), rows)
    for i in range(4):
        categories = np.array([f"c{j}" for j in range(5 * (i + 1) ** 2)])
        values = categories[rng.integers(0, len(categories), rows)].astype(object)
        values[rng.random(rows) < 0.01 * i] = None
        frame[f"cat_{i}"] = values
    start = np.datetime64("2020-01-01T00:00:00")
    frame["when"] = start + rng.integers(0, 5 * 365 * 86400, rows).astype("timedelta64[s]")
    frame["day"] = (start + rng.integers(0, 2000, rows).astype("timedelta64[D]")).astype(
        "datetime64[s]"
    )
    frame["flag"] = rng.random(rows) < 0.3
    return pd.DataFrame(frame)


def call(method: str, url: str, body: bytes | None = None, headers: dict | None = None) -> dict:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    with urllib.request.urlopen(request, timeout=3600) as response:
        return json.loads(response.read())


def profile_as_job(ai_url: str, body: bytes, headers: dict) -> dict:
    """Profile through the API as a `profiling` job (`Prefer: respond-async`): a table this large
    outlives a request's deadline. Follows the job, then reads the stored profile."""
    job = call("POST", f"{ai_url}/api/v1/ml/eda/profiles", body, headers | {"Prefer": "respond-async"})
    while job["status"] not in {"completed", "failed", "cancelled"}:
        time.sleep(0.05)
        job = call("GET", f"{ai_url}/api/v1/ml/jobs/{job['job_id']}", None, headers)
    if job["status"] != "completed":
        raise SystemExit(f"profiling job {job['job_id']} {job['status']}: {job['error']}")
    return call("GET", f"{ai_url}/api/v1/ml/eda/profiles/{job['result']['profile_id']}", None, headers)


def upload(ai_url: str, path: Path) -> None:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="table"\r\n\r\nbench\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="bench.parquet"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + path.read_bytes()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    call("POST", f"{ai_url}/api/v1/ml/datasets", body,
         {"X-API-Key": API_KEY, "Content-Type": f"multipart/form-data; boundary={boundary}"})  # fmt: skip


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """Resident memory (VmRSS) or its peak so far (VmHWM) of a process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--ydata-python", required=True, help="python of bench/.venv-eda")
    parser.add_argument("--repeats", type=int, default=3, help="profiles through the API")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("results.json"))
    args = parser.parse_args()

    frame = make_data(args.rows)
    folder = Path(tempfile.mkdtemp(prefix="bench-eda-"))
    parquet = folder / "bench.parquet"
    frame.to_parquet(parquet, index=False)
    stack = start_stack("bench-eda-", TENANT, API_KEY, seed_demo_data=False)
    try:
        upload(stack.ai_url, parquet)
        ml_pid = stack.processes[0].pid
        dataset = {"source": "table", "table": "uploads.bench"}
        headers = {"X-API-Key": API_KEY, "Content-Type": "application/json"}
        # "minimal": the statistics ydata's minimal mode computes (it computes no correlation
        # matrices); "full": the default profile, with Pearson, Spearman, Cramér's V and η.
        bodies = {
            "minimal": {"dataset": dataset, "correlations": []},
            "full": {"dataset": dataset},
        }
        runs: dict[str, list[float]] = {name: [] for name in bodies}
        loads: list[float] = []
        memory_before, peak_before = rss_mb(ml_pid), rss_mb(ml_pid, "VmHWM")
        for _ in range(args.repeats):
            for name, body in bodies.items():
                loads.append(os.getloadavg()[0])
                started = time.perf_counter()
                profile = profile_as_job(stack.ai_url, json.dumps(body).encode(), headers)
                runs[name].append(time.perf_counter() - started)
        memory_after, peak_after = rss_mb(ml_pid), rss_mb(ml_pid, "VmHWM")
    finally:
        stack.stop()

    ydata = json.loads(
        subprocess.run([args.ydata_python, str(Path(__file__).with_name("ydata_side.py")), str(parquet)],
                       check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
    )  # fmt: skip
    worst: dict[str, float] = {}
    counts_agree = True
    for column in profile["columns"]:
        theirs = ydata["columns"][column["name"]]
        counts_agree &= column["missing"] == theirs["n_missing"]
        counts_agree &= column["distinct"] == theirs["n_distinct"]
        ours = column.get("numeric") or {}
        for their_key, our_key in STATISTICS.items():
            if their_key in theirs and ours.get(our_key) is not None:
                scale = max(abs(theirs[their_key]), 1e-12)
                difference = abs(ours[our_key] - theirs[their_key]) / scale
                worst[their_key] = max(worst.get(their_key, 0.0), difference)
    result = {
        "rows": args.rows,
        "columns": len(frame.columns),
        "parquet_mb": round(parquet.stat().st_size / 1e6, 1),
        "in_memory_mb": round(frame.memory_usage(deep=True).sum() / 1e6, 1),
        "load_average_before_each_run": [round(load, 2) for load in loads],
        "api_seconds_minimal": [round(run, 3) for run in runs["minimal"]],
        "api_seconds_full": [round(run, 3) for run in runs["full"]],
        "full_profile_duration_seconds": profile["duration_seconds"],
        "ydata_minimal_seconds": round(ydata["seconds"], 3),
        "speed_up_minimal": round(ydata["seconds"] / statistics.median(runs["minimal"]), 1),
        "speed_up_full": round(ydata["seconds"] / statistics.median(runs["full"]), 1),
        "ml_service_rss_growth_mb": round(memory_after - memory_before, 1),
        "ml_service_peak_rss_growth_mb": round(peak_after - peak_before, 1),
        "missing_and_distinct_counts_agree": bool(counts_agree),
        "largest_relative_difference": {key: float(f"{value:.3g}") for key, value in worst.items()},
    }
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
