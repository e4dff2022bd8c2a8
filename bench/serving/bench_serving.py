"""Serving benchmark (DESIGN §7): single-row predict latency at fixed arrival rates, side by side.

In one run, for the same 100-tree XGBoost churn model deployed twice (runtime `ray_serve`: one
Ray Serve replica; runtime `embedded`: loaded in the ML Service's process):
- through the AI Service and directly against the ML Service, at each rate, with vegeta (an
  open-source HTTP load tool: open loop, so a stalled server cannot hide its queueing; a request
  not answered within 5 s is an error);
- in-process `LoadedModel.predict_records`, the code every replica runs;
- batch prediction of 1M generated rows, in-process and as a `POST /api/v1/serving/batch` job.

Every point is measured in `--runs` sweeps (3 by default) and reported per run (the 1-min load
average before it, served latency, 503 refusals and how fast they came, other errors) and over
the runs (the median run's p50 and p99, the worst run's p99): one run's tail says little on a
shared 2-core machine. Each run also records the CPU every process spent per request (the AI
Service, the ML Service, the Serve replica, Ray's other processes and vegeta itself, from /proc
through psutil) and how many cores the run kept busy: latency queues once that nears the core
count, so this says whether a missed goal is the code's cost or the machine's capacity.
Each point starts once the stack is idle again (`wait_until_idle`), so one point's backlog does not
land in the next. For a `ray_serve` deployment whose replica answers HTTP itself (Ray Serve's
direct ingress, the AI Service's path), the replica is also measured directly (`replica`).
`--quick` is a smoke run of about a minute per sweep.

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
import psutil

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


# Which process does what, by its command line, in the order tried: Ray names a Serve replica's
# worker `ray::ServeReplica:<app>:<deployment>`; the ML Service runs as `python -m app`; every other
# process of Ray's (GCS, raylet, Serve's controller, idle workers, the dashboard's) has `ray` in it.
CPU_ROLES = (("ai_service", "dist/main.js"), ("replica", "ServeReplica"),
             ("ml_service", "-m app"), ("ray", "ray"))  # fmt: skip


def cpu_seconds_by_process() -> dict[int, tuple[str, float]]:
    """Per process of the stack: its role (CPU_ROLES) and CPU seconds so far (user + system)."""
    seen = {}
    for process in psutil.process_iter(["cmdline", "cpu_times"]):
        command = " ".join(process.info["cmdline"] or [])
        times = process.info["cpu_times"]
        role = next((name for name, mark in CPU_ROLES if mark in command), None)
        if role is not None and times is not None:
            seen[process.pid] = (role, times.user + times.system)
    return seen


def cpu_per_request(before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]],
                    load_generator_s: float, requests: int, wall_s: float) -> dict[str, float]:
    """CPU ms per request of each role over one run, the load generator's (vegeta) included, and
    `cores_busy`: all of it over the run's wall time. This is the capacity check behind the
    latencies: at `cores_busy` near the machine's core count, every request queues."""
    used = dict.fromkeys([name for name, _ in CPU_ROLES], 0.0)
    for pid, (role, seconds) in after.items():
        used[role] += seconds - before.get(pid, (role, 0.0))[1]
    used["load_generator"] = load_generator_s
    per_request = {role: round(seconds * 1000 / max(requests, 1), 2)
                   for role, seconds in used.items()}  # fmt: skip
    per_request["total"] = round(sum(used.values()) * 1000 / max(requests, 1), 2)
    per_request["cores_busy"] = round(sum(used.values()) / wall_s, 2)
    return per_request


# The stack counts as idle once its processes together use less than this share of one core
# (Ray's background work alone is about a tenth of a core here).
IDLE_CORES = 0.25


def wait_until_idle(longest_s: float = 30.0) -> float:
    """Wait (at most `longest_s`) until the stack's processes are idle, so that a point never
    starts while the previous one's backlog is still being worked off: an overloaded point (the
    ML Service's single event loop at 500 req/s) kept the machine busy for seconds after vegeta
    stopped, and the next point paid for it. Returns the seconds waited."""
    started = time.perf_counter()
    before = cpu_seconds_by_process()
    while time.perf_counter() - started < longest_s:
        time.sleep(1.0)
        after = cpu_seconds_by_process()
        busy = sum(
            seconds - before.get(pid, (role, seconds))[1]
            for pid, (role, seconds) in after.items()
        )
        if busy < IDLE_CORES:
            break
        before = after
    return round(time.perf_counter() - started, 1)


def attack(
    vegeta: str, url: str, header: str, rate: int, seconds: float
) -> tuple[list[dict], dict[str, float]]:
    """One fixed-rate vegeta run: each request's status code, latency (ms) and headers, and the
    CPU each process spent meanwhile (cpu_per_request)."""
    with tempfile.TemporaryDirectory() as folder:
        body = Path(folder) / "body.json"
        body.write_text(json.dumps(RECORD))
        targets = Path(folder) / "targets.txt"
        targets.write_text(
            f"POST {url}\nContent-Type: application/json\n{header}\n@{body}\n"
        )
        before, children_before = cpu_seconds_by_process(), os.times()
        started = time.perf_counter()
        attack_run = subprocess.run(
            [vegeta, "attack", f"-targets={targets}", f"-rate={rate}/s",
             f"-duration={seconds}s", "-timeout=5s", "-keepalive=true", "-max-workers=512"],
            check=True, capture_output=True,
        )  # fmt: skip
        wall_s = time.perf_counter() - started
        after, children_after = cpu_seconds_by_process(), os.times()
        encoded = subprocess.run(
            [vegeta, "encode", "-to=json"], input=attack_run.stdout, check=True,
            capture_output=True,
        )  # fmt: skip
    results = []
    for line in encoded.stdout.splitlines():
        item = json.loads(line)
        results.append(
            {"code": item["code"], "latency_ms": item["latency"] / 1e6,
             "headers": item.get("headers") or {}}
        )  # fmt: skip
    vegeta_s = (children_after.children_user + children_after.children_system
                - children_before.children_user - children_before.children_system)  # fmt: skip
    return results, cpu_per_request(before, after, vegeta_s, len(results), wall_s)


# Hops in request order: through the AI Service, `ai_service` (the client's latency minus the AI
# Service's call: Nest and the client's hop) and `ml_hop` (that call minus the callee's own time:
# undici, loopback, uvicorn); directly, `outside_ml` (the client's latency minus the callee's own
# time); then the callee's Server-Timing: the ML Service's (app/serving/timing.py, total `ml`) or,
# for a replica answering HTTP itself, the replica's (`check`, `compute`, total `replica`).
HOPS = ["ai_service", "ml_hop", "outside_ml", "ingress", "check", "to_replica", "compute",
        "from_replica", "respond", "ml", "replica"]  # fmt: skip


def hop_medians(results: list[dict]) -> dict[str, float] | None:
    """Median ms per hop (HOPS) over the served requests of one run, from each answer's
    Server-Timing. None when the ML Service does not time its hops."""
    per_hop: dict[str, list[float]] = {}
    for item in results:
        header = item["headers"].get("Server-Timing")
        if item["code"] != 200 or not header:
            continue
        hops = {}
        for entry in ", ".join(header).split(","):
            name, _, duration = entry.strip().partition(";dur=")
            hops[name] = float(duration)
        callee = hops["ml"] if "ml" in hops else hops["replica"]
        if "ml_call" in hops:  # through the AI Service
            hops["ai_service"] = item["latency_ms"] - hops.pop("ml_call")
            hops["ml_hop"] = item["latency_ms"] - hops["ai_service"] - callee
        else:
            hops["outside_ml"] = item["latency_ms"] - callee
        for name, value in hops.items():
            per_hop.setdefault(name, []).append(value)
    if not per_hop:
        return None
    return {name: round(statistics.median(values), 3) for name, values in per_hop.items()}


def percentile(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 2) if values else None


def outcome_of(
    results: list[dict], cpu_ms: dict[str, float], seconds: float, load: float
) -> dict:
    """One run of one point: served (200) latency, refusals (503) and how fast they came, other
    errors (anything else, a timeout after 5 s included), the 1-min load before the run and the
    CPU ms per request of each process."""
    served = [item["latency_ms"] for item in results if item["code"] == 200]
    refused = [item["latency_ms"] for item in results if item["code"] == 503]
    codes: dict[str, int] = {}
    for item in results:
        codes[str(item["code"])] = codes.get(str(item["code"]), 0) + 1
    retry_after = sum(
        1 for item in results if item["code"] == 503 and "Retry-After" in item["headers"]
    )
    return {
        "load_1m_before": round(load, 2),
        "requests": len(results),
        "served_per_second": round(len(served) / seconds, 1),
        "p50_ms": percentile(served, 50),
        "p95_ms": percentile(served, 95),
        "p99_ms": percentile(served, 99),
        "refused_503": len(refused),
        "refused_with_retry_after": retry_after,
        "refused_p99_ms": percentile(refused, 99),
        "errors": len(results) - len(served) - len(refused),
        "status_codes": codes,
        "hops_ms": hop_medians(results),
        "cpu_ms_per_request": cpu_ms,
    }


def point_summary(runs: list[dict]) -> dict:
    """A point over its runs: the median run's p50 and p99, and the worst run's p99."""
    p50s = [run["p50_ms"] for run in runs if run["p50_ms"] is not None]
    p99s = [run["p99_ms"] for run in runs if run["p99_ms"] is not None]
    refused = [run["refused_p99_ms"] for run in runs if run["refused_p99_ms"] is not None]
    return {
        "runs": len(runs),
        "median_p50_ms": round(statistics.median(p50s), 2) if p50s else None,
        "median_p99_ms": round(statistics.median(p99s), 2) if p99s else None,
        "worst_p99_ms": max(p99s) if p99s else None,
        "min_served_per_second": min(run["served_per_second"] for run in runs),
        "refused_503": sum(run["refused_503"] for run in runs),
        "worst_refused_p99_ms": max(refused) if refused else None,
        "errors": sum(run["errors"] for run in runs),
        "load_1m_before": [run["load_1m_before"] for run in runs],
        "hops_ms": median_hops([run["hops_ms"] for run in runs if run["hops_ms"]]),
        "cpu_ms_per_request": median_cpu([run["cpu_ms_per_request"] for run in runs
                                          if run.get("cpu_ms_per_request")]),
    }


def median_cpu(runs: list[dict[str, float]]) -> dict[str, float] | None:
    """Per role, the median over the runs of its CPU ms per request (and of `cores_busy`)."""
    if not runs:
        return None
    return {name: round(statistics.median(run[name] for run in runs), 2) for name in runs[0]}


def median_hops(runs: list[dict[str, float]]) -> dict[str, float] | None:
    """Per hop, the median over the runs of each run's median."""
    if not runs:
        return None
    names = [name for name in HOPS if any(name in run for run in runs)]
    return {
        name: round(statistics.median(run[name] for run in runs if name in run), 3)
        for name in names
    }


def per_point_table(results: dict, key: str, columns: list[str]) -> str:
    """A markdown table with one row per point (runtime, rate, target) of the median run's
    `summary[key]`, a dict with the given columns; points without it are left out."""
    lines = [
        "| runtime | rate | target | " + " | ".join(columns) + " |",
        "|---|---:|---|" + "---:|" * len(columns),
    ]
    for rate, runtimes in results["rates"].items():
        for runtime, targets in runtimes.items():
            for target, point in targets.items():
                values = point["summary"].get(key)
                if values is None:
                    continue
                cells = " | ".join(str(values.get(name, "–")) for name in columns)
                lines.append(f"| {runtime} | {rate}/s | {TARGET_NAMES[target]} | {cells} |")
    return "\n".join(lines)


def hops_table(results: dict) -> str:
    """Where the time goes: per point, the median ms of each hop (median run)."""
    return per_point_table(results, "hops_ms", HOPS)


CPU_COLUMNS = ["ai_service", "ml_service", "replica", "ray", "load_generator", "total",
               "cores_busy"]  # fmt: skip


def cpu_table(results: dict) -> str:
    """What each request costs in CPU: per point, the median run's ms per request by process, and
    how many of the machine's cores the whole run kept busy."""
    return per_point_table(results, "cpu_ms_per_request", CPU_COLUMNS)


def in_process(data_dir: Path, count: int, batch: bool) -> tuple[dict, dict | None]:
    """The replica's own code path, without any network: single rows, then (with `batch`) big
    batches."""
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
    if not batch:
        return single, None

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
        # a batch is a job of the ML Service's runner: queued until a slot frees, then running
        while job["status"] in ("queued", "running"):
            await asyncio.sleep(0.5)
            async with session.get(f"/api/v1/serving/batch/{job['batch_id']}") as response:
                job = await response.json()
    return job


def table(results: dict) -> str:
    """The README's table: per runtime, rate and target, over the runs: the median run's p50 and
    p99 and the worst run's p99 of the served requests, refusals (503) and how fast the slowest
    came, other errors, and the 1-min load before each run; then what the AI Service adds."""
    lines = [
        (
            "| runtime | rate | target | p50 ms (median) | p99 ms (median) | p99 ms (worst run) | "
            "served/s (lowest) | 503s | 503 p99 ms (worst) | other errors | load before each run |"
        ),
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for rate, runtimes in results["rates"].items():
        for runtime, targets in runtimes.items():
            for target, point in targets.items():
                summary_ = point["summary"]
                loads = " · ".join(f"{load:.2f}" for load in summary_["load_1m_before"])
                lines.append(
                    f"| {runtime} | {rate}/s | {TARGET_NAMES[target]} | "
                    f"{summary_['median_p50_ms']} | {summary_['median_p99_ms']} | "
                    f"{summary_['worst_p99_ms']} | {summary_['min_served_per_second']} | "
                    f"{summary_['refused_503']} | {summary_['worst_refused_p99_ms'] or '–'} | "
                    f"{summary_['errors']} | {loads} |"
                )
            # against what the AI Service calls: the replica when it answers HTTP itself
            ai = targets["ai_service"]["summary"]
            ml = targets.get("replica", targets["ml_service"])["summary"]
            if ai["median_p50_ms"] is not None and ml["median_p50_ms"] is not None:
                added = ai["median_p50_ms"] - ml["median_p50_ms"]
                lines.append(
                    f"| {runtime} | {rate}/s | *AI Service adds (median p50)* | {added:.2f} "
                    "||||||||"
                )
    single = results["in_process_single_row"]
    lines.append(f"| in-process | – | `predict_records` | {single['p50_ms']} | {single['p99_ms']} "
                 f"| – | {single['throughput_per_second']} (one thread) | 0 | – | 0 | – |")  # fmt: skip
    return "\n".join(lines)


TARGET_NAMES = {
    "replica": "replica direct",
    "ml_service": "ML Service direct",
    "ai_service": "**AI Service**",
}


async def replica_url(ml_url: str, model_id: str) -> str | None:
    """The URL of the deployment's replica answering HTTP itself (Ray Serve's direct ingress), the
    one the AI Service sends its predictions to; None when the ML Service offers none (409)."""
    headers = {"X-Tenant-ID": TENANT, **service_headers()}
    async with (
        aiohttp.ClientSession(ml_url, headers=headers) as session,
        session.get(f"/api/v1/serving/{model_id}/targets") as response,
    ):
        if response.status != 200:
            return None
        return (await response.json())["urls"][0]


async def run(args: argparse.Namespace, ai_url: str, ml_url: str, data_dir: Path) -> dict:
    """`args.runs` sweeps over every point (rate x runtime x target), one after the other, so a
    noisy minute of the machine lands in one run of each point rather than in all runs of one."""
    await setup(ml_url)
    results: dict = {"runs": args.runs, "seconds": args.seconds, "rates": {}}
    single, batch = in_process(data_dir, 1000 if args.quick else 5000, batch=not args.quick)
    results["in_process_single_row"] = single
    if batch is not None:
        results["in_process_batch"] = batch
    ml_authorization = service_headers()["Authorization"]
    rates = [int(value) for value in args.rates.split(",")]
    for run_number in range(1, args.runs + 1):
        for rate in rates:
            for runtime, model_id in DEPLOYMENTS.items():
                ml_headers = f"X-Tenant-ID: {TENANT}\nAuthorization: {ml_authorization}"
                targets = {
                    "ml_service": (f"{ml_url}/api/v1/serving/{model_id}/predict", ml_headers),
                    "ai_service": (f"{ai_url}/api/v1/ml/serving/{model_id}/predict",
                                   f"X-API-Key: {args.api_key}"),
                }  # fmt: skip
                replica = await replica_url(ml_url, model_id)
                if replica is not None:  # what the AI Service calls for this deployment
                    targets = {"replica": (f"{replica}/predict", ml_headers), **targets}
                for name, (url, header) in targets.items():
                    settled_s = wait_until_idle()
                    attack(args.vegeta, url, header, rate, args.warmup)  # discarded: warm-up
                    load = os.getloadavg()[0]
                    answers, cpu_ms = attack(args.vegeta, url, header, rate, args.seconds)
                    outcome = outcome_of(answers, cpu_ms, args.seconds, load)
                    outcome["settled_s"] = settled_s
                    point = (
                        results["rates"].setdefault(str(rate), {}).setdefault(runtime, {})
                        .setdefault(name, {"runs": []})
                    )  # fmt: skip
                    point["runs"].append(outcome)
                    shown = {k: v for k, v in outcome.items() if k != "status_codes"}
                    print(f"run {run_number}: {rate} req/s {runtime} {name}: {shown}",
                          file=sys.stderr, flush=True)  # fmt: skip
    for runtimes in results["rates"].values():
        for targets in runtimes.values():
            for point in targets.values():
                point["summary"] = point_summary(point["runs"])
    if not args.quick:
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
    parser.add_argument("--runs", type=int, default=3, help="sweeps over every point (>= 1)")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument(
        "--quick", action="store_true",
        help="smoke run: rates 200,500, 2 s per point after 0.5 s of warm-up, no batch figures",
    )  # fmt: skip
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("results.json"))
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if args.quick:
        args.rates, args.seconds, args.warmup = "200,500", 2.0, 0.5
    stack: Stack | None = None
    if args.ai_url is None:
        print("starting the stack on spare ports ...", file=sys.stderr, flush=True)
        # every predict answers where its time went (a few perf_counter calls per request)
        os.environ["MLS_SERVING_TIMING"] = "true"
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
    print()
    print("where the time goes, median ms per hop (Server-Timing of the ML Service):")
    print(hops_table(results))
    print()
    print("CPU ms per request by process, and cores busy (median run; the machine has "
          f"{os.cpu_count()}):")
    print(cpu_table(results))
    if "batch_job" in results:
        job = results["batch_job"]
        print(f"batch job ({job['status']}{', ' + job['error'] if job['error'] else ''}): "
              f"{job['rows_per_second']} rows/s end to end; "
              f"in-process {results['in_process_batch']['rows_per_second']} rows/s")  # fmt: skip


if __name__ == "__main__":
    main()
