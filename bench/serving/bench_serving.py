"""Serving benchmark: single-row predict latency at fixed arrival rates, side by side.

Targets, in one run: through the AI Service, directly against the ML Service, and in-process
`LoadedModel.predict_records` (the code each Serve replica runs). Then batch prediction rows/s.

Open loop: requests are sent on a fixed schedule whether or not earlier ones finished, and each
latency is measured from its scheduled send time, so a stalled server cannot hide its queueing
(no coordinated omission). Client: aiohttp (already in the ML Service's environment).

Usage, with the stack running
(e.g. `PORT=3105 MLS_PORT=8105 MLS_DATA_DIR=/tmp/serving-data ./scripts/run.sh`):
    ml-service/.venv/bin/python bench/serving/bench_serving.py --setup \
        --ai-url http://127.0.0.1:3105 --ml-url http://127.0.0.1:8105 --data-dir /tmp/serving-data
"""

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

import aiohttp
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "ml-service"))

TENANT = "acme-corp"
MODEL = "churn-bench"
MODEL_ID = "churn-bench"
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
    """A 100-tree XGBoost churn model, registered and deployed (1 replica), unless it exists."""
    headers = {"X-Tenant-ID": TENANT}
    async with aiohttp.ClientSession(ml_url, headers=headers) as session:
        async with session.get(f"/api/v1/serving/deployments/{MODEL_ID}") as response:
            if response.status == 200:
                print("deployment exists", file=sys.stderr)
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
        body = {"model_name": MODEL, "version": int(version), "model_id": MODEL_ID}
        async with session.post("/api/v1/serving/deployments", json=body) as response:
            assert response.status == 202, await response.text()
        while True:
            async with session.get(
                f"/api/v1/serving/deployments/{MODEL_ID}"
            ) as response:
                deployment = await response.json()
            if deployment["status"] != "deploying":
                break
            await asyncio.sleep(1)
        assert deployment["status"] == "healthy", deployment
        print(f"deployed {MODEL} v{version}", file=sys.stderr)


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


async def fixed_rate(
    url: str, headers: dict, rate: float, seconds: float, warmup: float
) -> dict:
    connector = aiohttp.TCPConnector(limit=256, keepalive_timeout=30)
    body = json.dumps(RECORD).encode()
    headers = headers | {"Content-Type": "application/json"}
    latencies: list[float] = []
    errors = 0
    # a request not answered in 5 s counts as an error, so an overloaded target ends the run
    timeout = aiohttp.ClientTimeout(total=5)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def one(scheduled: float, record: bool) -> None:
            nonlocal errors
            try:
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    ok = response.status == 200
            except (aiohttp.ClientError, TimeoutError):
                ok = False
            if record:
                if ok:
                    latencies.append((time.perf_counter() - scheduled) * 1000)
                else:
                    errors += 1

        tasks = []
        start = time.perf_counter()
        total = int(rate * (seconds + warmup))
        for index in range(total):
            scheduled = start + index / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(scheduled, index >= rate * warmup)))
        await asyncio.gather(*tasks)
    return summary(latencies, errors, seconds, int(rate * seconds))


def in_process(data_dir: Path, count: int) -> tuple[dict, dict]:
    """The replica's own code path, without any network: single rows, then big batches."""
    from app.serving.model import LoadedModel, ModelSpec
    from app.serving.store import DeploymentStore

    record = DeploymentStore(data_dir / "serving.sqlite").get(TENANT, MODEL_ID)
    assert record is not None, "run with --setup first"
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
    headers = {"X-Tenant-ID": TENANT}
    body = {"model_id": MODEL_ID, "dataset": {"source": "sql", "query": BATCH_QUERY},
            "output_table": "churn_bench_scores"}  # fmt: skip
    async with aiohttp.ClientSession(ml_url, headers=headers) as session:
        async with session.post("/api/v1/serving/batch", json=body) as response:
            job = await response.json()
            assert response.status == 202, job
        while job["status"] == "running":
            await asyncio.sleep(0.5)
            async with session.get(
                f"/api/v1/serving/batch/{job['batch_id']}"
            ) as response:
                job = await response.json()
    return job


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ai-url", default="http://127.0.0.1:3000")
    parser.add_argument("--ml-url", default="http://127.0.0.1:8000")
    parser.add_argument("--api-key", default="dev-acme-key")
    parser.add_argument("--data-dir", type=Path, default=ROOT / "data")
    parser.add_argument("--rates", default="50,200,500")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--setup", action="store_true")
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).with_name("results.json")
    )
    args = parser.parse_args()
    if args.setup:
        await setup(args.ml_url)
    results: dict = {"rates": {}}
    single, batch = in_process(args.data_dir, 5000)
    results["in_process_single_row"] = single
    results["in_process_batch"] = batch
    targets = {
        "ml_service": (f"{args.ml_url}/api/v1/serving/{MODEL_ID}/predict", {"X-Tenant-ID": TENANT}),
        "ai_service": (f"{args.ai_url}/api/v1/ml/serving/{MODEL_ID}/predict",
                       {"X-API-Key": args.api_key}),
    }  # fmt: skip
    for rate in [float(value) for value in args.rates.split(",")]:
        results["rates"][str(int(rate))] = {}
        for name, (url, headers) in targets.items():
            outcome = await fixed_rate(url, headers, rate, args.seconds, args.warmup)
            results["rates"][str(int(rate))][name] = outcome
            print(f"{int(rate)} req/s {name}: {outcome}", file=sys.stderr)
    results["batch_job"] = await batch_job(args.ml_url)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
