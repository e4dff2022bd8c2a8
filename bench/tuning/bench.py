"""Tuning: the same random-search sweep with ASHA and with FIFO (DESIGN §7, issue 13's goals).

One seeded synthetic binary classification table (default 100,000 rows) is uploaded to a tenant
warehouse; then the same sweep — XGBoost, a random search of `--samples` trials over the default
space with the same `random_state` (so both schedulers get the same trials), `--trees` rounds
each, two trials at once — runs through the AI Service once with `asha` and once with `fifo`,
followed over the job's pushed events (SSE `GET /api/v1/ml/jobs/:sweep_id/events`). Each best
trial is then trained with train-best (full training split) and scored on the untouched test
split. Prints wall time, trials stopped early and best validation log_loss of each sweep, and the
test AUC after train-best; the goal is ASHA in ≤ 40 % of FIFO's time with a best score within
0.003.

Run with the ML Service's virtualenv from the repository root: `./bench/tuning/run.sh`; it is
heavy (two 32-trial sweeps): `--rows 2000 --samples 4 --trees 20` checks that it works.
"""

import argparse
import importlib.util
import json
import os
import sys
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1].parent
sys.path.insert(0, str(ROOT / "bench"))
from stack import Stack, service_headers, start_stack

# The data, upload and HTTP helpers of the training benchmark, loaded by path (both are bench.py).
_spec = importlib.util.spec_from_file_location("training_bench", ROOT / "bench/training/bench.py")
assert _spec is not None and _spec.loader is not None
training_bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(training_bench)

TENANT = "acme-corp"
API_KEY = "bench-key"
ENDED = {"completed", "failed", "cancelled"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--samples", type=int, default=32, help="trials per sweep (default 32)")
    parser.add_argument("--trees", type=int, default=200, help="boosting rounds of a full trial")
    parser.add_argument("--concurrency", type=int, default=2, help="max_concurrent_trials")
    # Chosen by replaying a FIFO sweep's curves (bench/tuning/replay.py, README): the shortest
    # grace period that keeps the best configuration; shorter ones or faster halving stop the
    # slow-learning configurations this data rewards.
    parser.add_argument("--grace-period", type=int, default=25, help="ASHA's grace period")
    parser.add_argument(
        "--reduction-factor", type=float, default=2, help="ASHA's reduction factor"
    )
    parser.add_argument("--seed", type=int, default=42, help="data seed, split and searcher seed")
    parser.add_argument("--ai-url", default=os.environ.get("BENCH_AI_URL"))
    parser.add_argument("--ml-url", default=os.environ.get("BENCH_ML_URL"))
    parser.add_argument("--api-key", default=os.environ.get("BENCH_API_KEY", API_KEY))
    parser.add_argument("--tenant", default=os.environ.get("BENCH_TENANT", TENANT))
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument(
        "--fifo-sweep", type=Path, help="also save the FIFO sweep (curves) for replay.py here"
    )
    return parser.parse_args(argv)


def follow_events(url: str, headers: dict) -> dict:
    """Read a job's SSE stream to its `end`; the ended job."""
    request = urllib.request.Request(url, headers={**headers, "Accept": "text/event-stream"})
    with urllib.request.urlopen(request, timeout=7200) as response:
        for raw in response:
            line = raw.decode("utf-8").rstrip("\n")
            if line.startswith("data:"):
                event = json.loads(line.removeprefix("data:").strip())
                if event["type"] == "end":
                    return event["job"]
    raise RuntimeError(f"{url} ended without an end event")


def run_sweep(args: argparse.Namespace, ai_url: str, table: str, scheduler: str) -> dict:
    headers = {"X-API-Key": args.api_key, "Content-Type": "application/json"}
    body = {
        "name": f"bench-tuning-{scheduler}",
        "algorithm": "xgboost",
        "task_type": "classification",
        "dataset": {"source": "table", "table": f"uploads.{table}"},
        "target_column": "label",
        "split": {"strategy": "stratified", "test_size": 0.2, "random_state": args.seed},
        "hyperparameters": {"n_estimators": args.trees},
        "search": "random",
        "scheduler": {
            "type": scheduler,
            "grace_period": args.grace_period,
            "reduction_factor": args.reduction_factor,
        },
        "num_samples": args.samples,
        "max_concurrent_trials": args.concurrency,
        "random_state": args.seed,
    }
    submit = {**headers, "Idempotency-Key": uuid.uuid4().hex}
    started = time.perf_counter()
    sweep = training_bench.http(
        "POST", f"{ai_url}/api/v1/ml/tuning", json.dumps(body).encode(), submit
    )
    ended = follow_events(f"{ai_url}/api/v1/ml/jobs/{sweep['sweep_id']}/events", headers)
    wall = time.perf_counter() - started
    if ended["status"] != "completed":
        raise RuntimeError(f"the {scheduler} sweep ended {ended['status']}: {ended['error']}")
    sweep = training_bench.http("GET", f"{ai_url}/api/v1/ml/tuning/{sweep['sweep_id']}", None, headers)
    if scheduler == "fifo" and args.fifo_sweep:
        args.fifo_sweep.write_text(json.dumps(sweep, indent=1) + "\n")
    best = sweep["best_trial"]
    job = training_bench.http(
        "POST",
        f"{ai_url}/api/v1/ml/tuning/{sweep['sweep_id']}/train-best",
        b"{}",
        {**headers, "Idempotency-Key": uuid.uuid4().hex},
    )
    trained = follow_events(f"{ai_url}/api/v1/ml/jobs/{job['job_id']}/events", headers)
    if trained["status"] != "completed":
        raise RuntimeError(f"train-best ended {trained['status']}: {trained['error']}")
    metrics = trained["result"]["metrics"]
    return {
        "scheduler": scheduler,
        "sweep_id": sweep["sweep_id"],
        "wall_seconds": round(wall, 2),
        "trials": len(sweep["trials"]),
        "trials_stopped_early": sum(t["status"] == "stopped_early" for t in sweep["trials"]),
        "rounds_run": sum(trial["rounds"] for trial in sweep["trials"]),
        "best_validation_log_loss": round(best["metrics"]["log_loss"], 5),
        "best_params": best["params"],
        "test_auc_after_train_best": metrics["auc_roc"],
        "test_log_loss_after_train_best": metrics["log_loss"],
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    stack: Stack | None = None
    if args.ai_url:
        ai_url, ml_url = args.ai_url, args.ml_url
    else:
        stack = start_stack("bench-tuning-", args.tenant, args.api_key, seed_demo_data=False)
        ai_url, ml_url = stack.ai_url, stack.ml_url
    try:
        frame = training_bench.synthetic_frame(args.rows, args.features, args.seed)
        table = f"bench_tuning_{args.rows}"
        body, content_type = training_bench.multipart(
            {"table": table, "if_exists": "replace"},
            f"{table}.parquet",
            training_bench.parquet_bytes(frame),
        )
        training_bench.http(
            "POST",
            f"{ml_url}/api/v1/datasets/tables",
            body,
            {"X-Tenant-ID": args.tenant, "Content-Type": content_type, **service_headers()},
        )
        runs = [run_sweep(args, ai_url, table, scheduler) for scheduler in ("asha", "fifo")]
        asha, fifo = runs
        result = {
            "rows": args.rows,
            "samples": args.samples,
            "trees": args.trees,
            "concurrency": args.concurrency,
            "grace_period": args.grace_period,
            "reduction_factor": args.reduction_factor,
            "asha": asha,
            "fifo": fifo,
            "asha_time_share_of_fifo": round(asha["wall_seconds"] / fifo["wall_seconds"], 3),
            "best_validation_gap": round(
                asha["best_validation_log_loss"] - fifo["best_validation_log_loss"], 5
            ),
        }
        print(json.dumps(result, indent=2))
        if args.json:
            args.json.write_text(json.dumps(result, indent=2) + "\n")
    finally:
        if stack is not None:
            stack.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
