"""Training through the API vs plain `xgboost.train` on the same rows (DESIGN §7).

For each size: generate a seeded synthetic binary classification table, upload it to a tenant
warehouse (ML Service upload API), train it through the AI Service on each path — the warm
single-worker path (the default) and Ray Train (`"scaling": {"ray_train": true}`) — following
the job's pushed events (SSE `GET /api/v1/ml/jobs/:job_id/events`; wall time submit→`end`, and
submit→first progress event), then train in this process with plain `xgboost.train` on the same
split (the ML Service's own split code) and the same booster parameters, with the job's one
thread and with every core (what a user at a notebook gets). Prints wall times, ratios and AUCs.

Run with the ML Service's virtualenv from the repository root: `./bench/training/run.sh`.
"""

import argparse
import io
import json
import os
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ML_SERVICE_DIR = ROOT / "ml-service"
# the benchmarks' shared throw-away stack (bench/stack.py)
sys.path.insert(0, str(ROOT / "bench"))
from stack import Stack, service_headers
from stack import start_stack as start_training_stack

# The demo tenant: its seeded churn table is what the seed's training request reads.
TENANT = "acme-corp"
API_KEY = "bench-key"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rows",
        default="1000,100000,1000000",
        help="comma-separated table sizes (the 1,000-row point shows the fixed cost)",
    )
    parser.add_argument("--features", type=int, default=20, help="numeric features (default 20)")
    parser.add_argument("--trees", type=int, default=100, help="boosting rounds (default 100)")
    parser.add_argument("--max-depth", type=int, default=6)
    parser.add_argument("--learning-rate", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=42, help="data seed and random_state")
    parser.add_argument(
        "--ai-url",
        default=os.environ.get("BENCH_AI_URL"),
        help="a running AI Service (with --ml-url and --api-key); default: start a stack",
    )
    parser.add_argument("--ml-url", default=os.environ.get("BENCH_ML_URL"))
    parser.add_argument("--api-key", default=os.environ.get("BENCH_API_KEY", API_KEY))
    parser.add_argument(
        "--tenant", default=os.environ.get("BENCH_TENANT", TENANT), help="tenant of --api-key"
    )
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument(
        "--no-warmup",
        action="store_true",
        help="skip the unmeasured 1,000-row job that starts Ray's workers first",
    )
    parser.add_argument(
        "--seed-request-runs",
        type=int,
        default=5,
        help="times to send the seed's churn request (docs/examples/train-churn.json, 5,000 demo "
        "rows) after the sizes, on the warm stack; 0 skips it (needs the stack started here)",
    )
    return parser.parse_args(argv)


# --------------------------------------------------------------------------- data


def synthetic_frame(rows: int, features: int, seed: int):
    """Gaussian features; the label depends on a few of them, linearly and not, plus noise."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, features), dtype=np.float64)
    weights = rng.normal(0, 1, features) * (rng.random(features) < 0.5)
    logit = x @ weights + 0.8 * x[:, 0] * x[:, 1] - 0.6 * np.abs(x[:, 2]) + 0.3
    label = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(np.int32)
    frame = pd.DataFrame(x, columns=[f"f{index:02d}" for index in range(features)])
    frame["label"] = label
    return frame


def parquet_bytes(frame) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buffer)
    return buffer.getvalue()


# --------------------------------------------------------------------------- HTTP


def http(method: str, url: str, body: bytes | None = None, headers: dict | None = None) -> dict:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=600) as response:
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        reason = error.read().decode()[:500]
        raise RuntimeError(f"{method} {url} → {error.code}: {reason}") from None


def multipart(fields: dict[str, str], filename: str, content: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


# --------------------------------------------------------------------------- stack


def start_stack() -> Stack:
    return start_training_stack("bench-training-", TENANT, API_KEY, seed_demo_data=True)


# --------------------------------------------------------------------------- the two runs


def hyperparameters(args: argparse.Namespace) -> dict:
    return {
        "n_estimators": args.trees,
        "max_depth": args.max_depth,
        "learning_rate": args.learning_rate,
    }


def follow_events(url: str, headers: dict, started: float, trees: int) -> tuple[dict, dict]:
    """Read the job's SSE stream to its `end`; the final job and when (seconds after `started`)
    the first progress event and the last round arrived."""
    request = urllib.request.Request(url, headers={**headers, "Accept": "text/event-stream"})
    first_event = first_round = last_round = None
    job: dict = {}
    with urllib.request.urlopen(request, timeout=3600) as response:
        for raw in response:
            line = raw.decode("utf-8").rstrip("\n")
            if not line.startswith("data:"):
                continue
            event = json.loads(line.removeprefix("data:").strip())
            now = time.perf_counter() - started
            iteration = (event.get("progress") or {}).get("iteration", 0)
            if event["type"] == "progress" and first_event is None:
                first_event = now
            if first_round is None and iteration > 0:
                first_round = now
            if last_round is None and iteration >= trees:
                last_round = now
            if event["type"] == "end":
                job = event["job"]
                break
    return job, {"first_event": first_event, "first_round": first_round, "last_round": last_round}


def train_through_api(
    args: argparse.Namespace, stack: Stack, table: str, features: list[str], ray_train: bool
):
    body = {
        "name": f"bench-{table}",
        "algorithm": "xgboost",
        "task_type": "classification",
        "dataset": {"source": "table", "table": f"uploads.{table}"},
        "target_column": "label",
        "feature_columns": features,
        "split": {"strategy": "random", "test_size": 0.2, "random_state": args.seed},
        "hyperparameters": hyperparameters(args),
        "scaling": {"num_workers": 1, "ray_train": ray_train},
    }
    headers = {
        "X-API-Key": args.api_key,
        "Content-Type": "application/json",
        "Idempotency-Key": uuid.uuid4().hex,
    }
    started = time.perf_counter()
    job = http("POST", f"{stack.ai_url}/api/v1/ml/train", json.dumps(body).encode(), headers)
    events_url = f"{stack.ai_url}/api/v1/ml/jobs/{job['job_id']}/events"
    ended, times = follow_events(events_url, {"X-API-Key": args.api_key}, started, args.trees)
    wall = time.perf_counter() - started
    if ended.get("status") != "completed":
        raise RuntimeError(f"the job ended {ended.get('status')}: {ended.get('error')}")
    job = http("GET", f"{stack.ai_url}/api/v1/ml/train/{job['job_id']}", None, headers)
    first_round, last_round = times["first_round"], times["last_round"]
    job["bench_phases"] = {
        "submit_to_first_progress_event_seconds": _rounded(times["first_event"]),
        "submit_to_first_round_seconds": _rounded(first_round),
        "boosting_seconds": _rounded(
            last_round - first_round if first_round is not None and last_round is not None else None
        ),
        "last_round_to_completed_seconds": _rounded(
            wall - last_round if last_round is not None else None
        ),
    }
    return wall, job


def train_in_process(args: argparse.Namespace, frame, features: list[str], threads: int):
    """The same split (the service's code) and the same booster parameters as the job, with
    `threads` threads."""
    import xgboost
    from sklearn.metrics import roc_auc_score

    sys.path.insert(0, str(ML_SERVICE_DIR))
    from app.training.features import LABEL_COLUMN, model_frame, prepare_training_data

    started = time.perf_counter()
    data = prepare_training_data(
        frame, "classification", "label", features, [], "random", 0.2, args.seed
    )
    train = xgboost.DMatrix(model_frame(data.train, data.spec), label=data.train[LABEL_COLUMN])
    test = xgboost.DMatrix(model_frame(data.test, data.spec), label=data.test[LABEL_COLUMN])
    prepared = time.perf_counter()
    params = {
        "eta": args.learning_rate,
        "max_depth": args.max_depth,
        "subsample": 1.0,
        "colsample_bytree": 1.0,
        "min_child_weight": 1.0,
        "lambda": 1.0,
        "alpha": 0.0,
        "gamma": 0.0,
        "tree_method": "hist",
        "nthread": threads,
        "seed": args.seed,
        "objective": "binary:logistic",
        "eval_metric": ["logloss", "auc"],
    }
    booster = xgboost.train(
        params, train, num_boost_round=args.trees, evals=[(test, "test")], verbose_eval=False
    )
    wall = time.perf_counter() - started
    auc = float(roc_auc_score(data.test[LABEL_COLUMN], booster.predict(test)))
    return wall, prepared - started, auc


def run_size(args: argparse.Namespace, stack: Stack, rows: int) -> dict:
    features = [f"f{index:02d}" for index in range(args.features)]
    frame = synthetic_frame(rows, args.features, args.seed)
    table = f"bench_{rows}"
    body, content_type = multipart({"table": table, "if_exists": "replace"}, f"{table}.parquet",
                                   parquet_bytes(frame))  # fmt: skip
    started = time.perf_counter()
    http(
        "POST",
        f"{stack.ml_url}/api/v1/datasets/tables",
        body,
        {"X-Tenant-ID": args.tenant, "Content-Type": content_type, **service_headers()},
    )
    upload_seconds = time.perf_counter() - started
    result: dict = {"rows": rows, "upload_seconds": round(upload_seconds, 2)}
    raw_wall, raw_prepare, raw_auc = train_in_process(args, frame, features, 1)
    all_wall, _, _ = train_in_process(args, frame, features, os.cpu_count() or 1)
    result |= {
        "raw_wall_seconds": round(raw_wall, 2),
        "raw_prepare_seconds": round(raw_prepare, 2),
        "raw_all_cores_wall_seconds": round(all_wall, 2),
        "raw_auc": round(raw_auc, 5),
    }
    for path, ray_train in (("warm", False), ("ray_train", True)):
        api_wall, job = train_through_api(args, stack, table, features, ray_train)
        created, began, finished = (
            _timestamp(job["created_at"]), _timestamp(job["started_at"]),
            _timestamp(job["finished_at"]),
        )  # fmt: skip
        result |= {
            f"{path}_wall_seconds": round(api_wall, 2),
            f"{path}_queued_seconds": round(began - created, 2),
            f"{path}_running_seconds": round(finished - began, 2),
            **{f"{path}_{name}": value for name, value in job["bench_phases"].items()},
            f"{path}_ratio": round(api_wall / raw_wall, 2),
            f"{path}_auc": job["metrics"]["auc_roc"],
            f"{path}_auc_difference": round(abs(job["metrics"]["auc_roc"] - raw_auc), 5),
        }
    return result


def run_seed_request(args: argparse.Namespace, stack: Stack) -> dict:
    """The seed's churn request (docs/examples/train-churn.json) on the warm stack, several times:
    wall time submit → `end` as a client following the pushed events sees it, and the metrics,
    which must be the same every time (same `random_state`)."""
    body = json.loads((ROOT / "docs" / "examples" / "train-churn.json").read_text())
    walls, metrics = [], []
    for _ in range(args.seed_request_runs):
        headers = {
            "X-API-Key": args.api_key,
            "Content-Type": "application/json",
            "Idempotency-Key": uuid.uuid4().hex,
        }
        started = time.perf_counter()
        job = http("POST", f"{stack.ai_url}/api/v1/ml/train", json.dumps(body).encode(), headers)
        events_url = f"{stack.ai_url}/api/v1/ml/jobs/{job['job_id']}/events"
        ended, _ = follow_events(events_url, {"X-API-Key": args.api_key}, started, 0)
        walls.append(round(time.perf_counter() - started, 2))
        if ended.get("status") != "completed":
            raise RuntimeError(f"the seed request ended {ended.get('status')}: {ended.get('error')}")
        job = http("GET", f"{stack.ai_url}/api/v1/ml/train/{job['job_id']}", None, headers)
        metrics.append(job["metrics"]["auc_roc"])
    return {
        "wall_seconds": walls,
        "median_wall_seconds": sorted(walls)[len(walls) // 2],
        "auc_roc": metrics,
        "identical_metrics": len(set(metrics)) == 1,
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _timestamp(value: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sizes = [int(size) for size in args.rows.split(",") if size.strip()]
    if args.ai_url and args.ml_url:
        stack = Stack(args.ai_url.rstrip("/"), args.ml_url.rstrip("/"), [], None)
    else:
        print("starting the stack on spare ports ...", flush=True)
        stack = start_stack()
        print(f"  AI Service {stack.ai_url}, ML Service {stack.ml_url}, data {stack.data_dir}")
    results = []
    try:
        if not args.no_warmup:
            print("warm-up job (1,000 rows, not measured) ...", flush=True)
            warmup = run_size(args, stack, 1000)
            print(f"          cold first job: {warmup['warm_wall_seconds']} s", flush=True)
        for rows in sizes:
            print(f"{rows:>9,} rows ...", flush=True)
            result = run_size(args, stack, rows)
            results.append(result)
            print("          " + json.dumps(result), flush=True)
        seed_request = None
        if args.seed_request_runs > 0 and stack.data_dir is not None:
            print(f"the seed's churn request x {args.seed_request_runs} ...", flush=True)
            seed_request = run_seed_request(args, stack)
            print("          " + json.dumps(seed_request), flush=True)
    finally:
        stack.stop()
    print()
    load = os.getloadavg()
    print(
        f"xgboost, {args.trees} trees, max_depth {args.max_depth}, eta {args.learning_rate}, "
        f"{args.features} features, 80/20 split; {os.cpu_count()} cores, load average "
        f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}"
    )
    print(
        "     rows | xgboost.train 1 thread | all cores | API warm (ratio) | API Ray Train (ratio)"
        " | first event warm / Ray Train | AUC raw / warm / Ray Train"
    )
    for r in results:
        print(
            f"{r['rows']:>9,} | {r['raw_wall_seconds']:>20.2f} s | {r['raw_all_cores_wall_seconds']:>7.2f} s"
            f" | {r['warm_wall_seconds']:>7.2f} s ({r['warm_ratio']:.2f}×)"
            f" | {r['ray_train_wall_seconds']:>7.2f} s ({r['ray_train_ratio']:.2f}×)"
            f" | {r['warm_submit_to_first_progress_event_seconds']} s / "
            f"{r['ray_train_submit_to_first_progress_event_seconds']} s"
            f" | {r['raw_auc']:.4f} / {r['warm_auc']:.4f} / {r['ray_train_auc']:.4f}"
        )
    if seed_request is not None:
        print(
            f"seed churn request (5,000 rows, xgboost 100 trees), submit → end: median "
            f"{seed_request['median_wall_seconds']} s of {seed_request['wall_seconds']}; "
            f"identical metrics: {seed_request['identical_metrics']}"
        )
    if args.json:
        document = {"sizes": results, "seed_request": seed_request, "load_average": load}
        args.json.write_text(json.dumps(document, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
