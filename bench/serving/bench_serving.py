"""Serving benchmark (DESIGN §7): single-row predict latency at fixed arrival rates, side by side.

In one run, for the same 100-tree XGBoost churn model deployed twice (runtime `ray_serve`: one
Ray Serve replica; runtime `embedded`: loaded in the ML Service's process):
- through the AI Service and directly against the ML Service, at each rate, with vegeta (an
  open-source HTTP load tool: open loop, so a stalled server cannot hide its queueing; a request
  not answered within 5 s is an error);
- in-process `LoadedModel.predict_records`, the code every replica runs;
- batch prediction of 1M generated rows, in-process and as a `POST /api/v1/serving/batch` job.

`./bench/serving/run.sh` builds the AI Service, installs vegeta and starts a throw-away stack on
spare ports; `--ai-url/--ml-url/--data-dir` use a running one instead.
"""

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "ml-service"))
# the benchmarks' shared throw-away stack (bench/stack.py)
sys.path.insert(0, str(ROOT / "bench"))
from stack import Stack, service_headers, start_stack

TENANT = "acme-corp"
API_KEY = "bench-serving-key"
MODEL = "churn-bench"
# model_id per runtime
DEPLOYMENTS = {"ray_serve": "churn-bench", "embedded": "churn-bench-embedded"}
FEATURES = ["tenure", "monthly_charges", "total_charges", "contract_type"]
RECORD = {"tenure": 3, "monthly_charges": 89.5, "total_charges": 268.5,
          "contract_type": "month-to-month"}  # fmt: skip
# 1M generated rows with the churn table's columns, for batch throughput
BATCH_QUERY = (
    "SELECT 'C' || i AS customer_id, (i % 72) + 1 AS tenure, "
    "20 + (i % 97) * 1.0 AS monthly_charges, "
    "((i % 72) + 1) * (20 + (i % 97) * 1.0) AS total_charges, "
    "CASE i % 3 WHEN 0 THEN 'month-to-month' WHEN 1 THEN 'one-year' ELSE 'two-year' END "
    "AS contract_type FROM range(1000000) t(i)"
)


async def setup(ml_url: str) -> None:
    """A 100-tree XGBoost churn model, registered, deployed on both runtimes (unless deployed)."""
    headers = {"X-Tenant-ID": TENANT, **service_headers()}
    async with aiohttp.ClientSession(ml_url, headers=headers) as session:
        missing = []
        for runtime, model_id in DEPLOYMENTS.items():
            async with session.get(f"/api/v1/serving/deployments/{model_id}") as response:
                if response.status != 200:
                    missing.append(runtime)
        if not missing:
            print("deployments exist", file=sys.stderr)
            return
        config = {
            "name": MODEL, "algorithm": "xgboost", "task_type": "classification",
            "dataset": {"source": "sql", "query": "SELECT * FROM ml_features.customer_churn"},
            "target_column": "churned", "feature_columns": FEATURES,
            "split": {"strategy": "stratified", "test_size": 0.2, "random_state": 42},
            "hyperparameters": {"n_estimators": 100, "max_depth": 6},
        }  # fmt: skip
        async with session.post("/api/v1/training/submit", json=config) as response:
            job_id = (await response.json())["job_id"]
        while True:
            async with session.get(f"/api/v1/training/jobs/{job_id}") as response:
                job = await response.json()
            if job["status"] in ("completed", "failed", "cancelled"):
                break
            await asyncio.sleep(1)
        assert job["status"] == "completed", job
        async with session.post(
            f"/api/v1/registry/models/{MODEL}/versions", json={"job_id": job_id}
        ) as response:
            version = (await response.json())["version"]
        for runtime in missing:
            body = {"model_name": MODEL, "version": int(version),
                    "model_id": DEPLOYMENTS[runtime], "runtime": runtime}  # fmt: skip
            async with session.post("/api/v1/serving/deployments", json=body) as response:
                assert response.status == 202, await response.text()
        for runtime in missing:
            while True:
                path = f"/api/v1/serving/deployments/{DEPLOYMENTS[runtime]}"
                async with session.get(path) as response:
                    deployment = await response.json()
                if deployment["status"] != "deploying":
                    break
                await asyncio.sleep(1)
            assert deployment["status"] == "healthy", deployment
            print(f"deployed {MODEL} v{version} on {runtime}", file=sys.stderr)


def summary(latencies_ms: list[float], errors: int, seconds: float, sent: int) -> dict:
    values = np.array(latencies_ms) if latencies_ms else np.array([np.nan])
    return {
        "requests": sent,
        "errors": errors,
        "throughput_per_second": round(len(latencies_ms) / seconds, 1),
        "p50_ms": round(float(np.percentile(values, 50)), 2),
        "p95_ms": round(float(np.percentile(values, 95)), 2),
        "p99_ms": round(float(np.percentile(values, 99)), 2),
    }


def attack(vegeta: str, url: str, header: str, rate: int, seconds: float) -> dict:
    """One fixed-rate vegeta run; its JSON report reduced to what the README shows."""
    with tempfile.TemporaryDirectory() as folder:
        body = Path(folder) / "body.json"
        body.write_text(json.dumps(RECORD))
        targets = Path(folder) / "targets.txt"
        targets.write_text(
            f"POST {url}\nContent-Type: application/json\n{header}\n@{body}\n"
        )
        attack_run = subprocess.run(
            [vegeta, "attack", f"-targets={targets}", f"-rate={rate}/s",
             f"-duration={seconds}s", "-timeout=5s", "-keepalive=true", "-max-workers=512"],
            check=True, capture_output=True,
        )  # fmt: skip
        report = subprocess.run(
            [vegeta, "report", "-type=json"], input=attack_run.stdout, check=True,
            capture_output=True,
        )  # fmt: skip
    data = json.loads(report.stdout)
    latencies = data["latencies"]
    ok = data["status_codes"].get("200", 0)
    return {
        "requests": data["requests"],
        "errors": data["requests"] - ok,
        "status_codes": data["status_codes"],
        "throughput_per_second": round(data["throughput"], 1),
        "p50_ms": round(latencies["50th"] / 1e6, 2),
        "p95_ms": round(latencies["95th"] / 1e6, 2),
        "p99_ms": round(latencies["99th"] / 1e6, 2),
    }


def in_process(data_dir: Path, count: int) -> tuple[dict, dict]:
    """The replica's own code path, without any network: single rows, then big batches."""
    from app.serving.model import LoadedModel, ModelSpec
    from app.serving.store import DeploymentStore

    record = DeploymentStore(data_dir / "serving.sqlite").get(TENANT, DEPLOYMENTS["ray_serve"])
    assert record is not None, "the deployments are missing: run with --setup"
    version = str(record.variants[0]["version"])
    model = LoadedModel(ModelSpec(**record.spec["models"][version]))
    for _ in range(200):
        model.predict_records([RECORD])
    latencies = []
    for _ in range(count):
        started = time.perf_counter()
        model.predict_records([RECORD])
        latencies.append((time.perf_counter() - started) * 1000)
    single = summary(latencies, 0, sum(latencies) / 1000, count)
    single["throughput_per_second"] = round(count / (sum(latencies) / 1000), 1)

    import pandas as pd

    rng = np.random.default_rng(0)
    rows = 1_000_000
    frame = pd.DataFrame({
        "tenure": rng.integers(1, 73, rows).astype("f8"),
        "monthly_charges": rng.uniform(20, 120, rows),
        "total_charges": rng.uniform(20, 8000, rows),
        "contract_type": rng.choice(["month-to-month", "one-year", "two-year"], rows),
    })  # fmt: skip
    typed = model.coerce(frame)
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        for start in range(0, rows, 50_000):
            model.raw_predict(typed.iloc[start : start + 50_000])
        timings.append(time.perf_counter() - started)
    batch = {"rows": rows, "chunk_rows": 50_000,
             "rows_per_second": round(rows / statistics.median(timings))}  # fmt: skip
    return single, batch


async def batch_job(ml_url: str) -> dict:
    headers = {"X-Tenant-ID": TENANT, **service_headers()}
    body = {"model_id": DEPLOYMENTS["ray_serve"], "dataset": {"source": "sql", "query": BATCH_QUERY},
            "output_table": "churn_bench_scores"}  # fmt: skip
    async with aiohttp.ClientSession(ml_url, headers=headers) as session:
        async with session.post("/api/v1/serving/batch", json=body) as response:
            job = await response.json()
            assert response.status == 202, job
        while job["status"] == "running":
            await asyncio.sleep(0.5)
            async with session.get(f"/api/v1/serving/batch/{job['batch_id']}") as response:
                job = await response.json()
    return job


def table(results: dict) -> str:
    """The README's table: one row per runtime, rate and target, with what the AI Service adds."""
    lines = [
        "| runtime | rate | target | p50 ms | p95 ms | p99 ms | served/s | errors |",
        "|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    for rate, runtimes in results["rates"].items():
        for runtime, targets in runtimes.items():
            for target, outcome in targets.items():
                lines.append(
                    f"| {runtime} | {rate}/s | {target} | {outcome['p50_ms']} | "
                    f"{outcome['p95_ms']} | {outcome['p99_ms']} | "
                    f"{outcome['throughput_per_second']} | {outcome['errors']} |"
                )
            added = targets["ai_service"]["p50_ms"] - targets["ml_service"]["p50_ms"]
            lines.append(f"| {runtime} | {rate}/s | *AI Service adds (p50)* | {added:.2f} |||||")
    single = results["in_process_single_row"]
    lines.append(f"| in-process | – | `predict_records` | {single['p50_ms']} | {single['p95_ms']} "
                 f"| {single['p99_ms']} | {single['throughput_per_second']} (one thread) | 0 |")  # fmt: skip
    return "\n".join(lines)


async def run(args: argparse.Namespace, ai_url: str, ml_url: str, data_dir: Path) -> dict:
    await setup(ml_url)
    results: dict = {"rates": {}}
    single, batch = in_process(data_dir, 5000)
    results["in_process_single_row"] = single
    results["in_process_batch"] = batch
    ml_authorization = service_headers()["Authorization"]
    for rate in [int(value) for value in args.rates.split(",")]:
        results["rates"][str(rate)] = {}
        for runtime, model_id in DEPLOYMENTS.items():
            targets = {
                "ml_service": (f"{ml_url}/api/v1/serving/{model_id}/predict",
                               f"X-Tenant-ID: {TENANT}\nAuthorization: {ml_authorization}"),
                "ai_service": (f"{ai_url}/api/v1/ml/serving/{model_id}/predict",
                               f"X-API-Key: {args.api_key}"),
            }  # fmt: skip
            results["rates"][str(rate)][runtime] = {}
            for name, (url, header) in targets.items():
                attack(args.vegeta, url, header, rate, args.warmup)  # discarded: warm-up
                outcome = attack(args.vegeta, url, header, rate, args.seconds)
                results["rates"][str(rate)][runtime][name] = outcome
                print(f"{rate} req/s {runtime} {name}: {outcome}", file=sys.stderr)
    results["batch_job"] = await batch_job(ml_url)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ai-url", help="a running AI Service (default: start a stack)")
    parser.add_argument("--ml-url", help="the running ML Service behind --ai-url")
    parser.add_argument("--data-dir", type=Path, help="the running ML Service's MLS_DATA_DIR")
    parser.add_argument("--api-key", default=API_KEY, help="an acme-corp key of the running stack")
    parser.add_argument("--vegeta", default=os.environ.get("VEGETA", "vegeta"))
    parser.add_argument("--rates", default="50,200,500")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("results.json"))
    args = parser.parse_args()
    stack: Stack | None = None
    if args.ai_url is None:
        print("starting the stack on spare ports ...", file=sys.stderr, flush=True)
        stack = start_stack("bench-serving-", TENANT, args.api_key, seed_demo_data=True)
        ai_url, ml_url, data_dir = stack.ai_url, stack.ml_url, stack.data_dir
    else:
        if args.ml_url is None or args.data_dir is None:
            parser.error("--ai-url needs --ml-url and --data-dir")
        ai_url, ml_url, data_dir = args.ai_url, args.ml_url, args.data_dir
    try:
        assert data_dir is not None
        results = asyncio.run(run(args, ai_url, ml_url, data_dir))
    finally:
        if stack is not None:
            stack.stop()
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))
    print(f"batch job: {results['batch_job']['rows_per_second']} rows/s end to end; "
          f"in-process {results['in_process_batch']['rows_per_second']} rows/s")  # fmt: skip


if __name__ == "__main__":
    main()
