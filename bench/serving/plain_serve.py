"""What a team would write instead: a plain Ray Serve app for the same kind of model, measured like
`bench_serving.py` measures the product (vegeta, open loop, CPU per request by process).

One FastAPI ingress deployment (one replica, 0.25 CPU, `max_ongoing_requests` 16, Serve's
throughput mode as the product runs it) checks a bearer token, parses one churn record and
predicts with a 100-tree XGBoost booster on 4 features: about the least a served endpoint does.
`--ingress proxy` reaches it through Serve's HTTP proxy (Serve's default); `--ingress direct`
through Ray 2.60's direct ingress, where the replica answers HTTP itself on a port of its own
(RAY_SERVE_ENABLE_DIRECT_INGRESS). Ray runs on its own here (2 CPUs, no dashboard, loopback), with
nothing of the product started: the figures say what Serve itself costs per request, the floor
under the product's `ray_serve` path (AI Service -> ML Service -> Serve handle -> replica).

    ml-service/.venv/bin/python bench/serving/plain_serve.py --ingress direct \
        --vegeta bench/.tools/bin/vegeta --out bench/serving/plain-serve-direct.json
"""

import argparse
import json
import os
import secrets
import shutil
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # at run time Ray is imported only once its flags are set (main)
    from ray.serve import Application

INGRESS = {"proxy": "0", "direct": "1"}
TOKEN = "Bearer plain-serve-bench"
CONTRACTS = {"month-to-month": 0.0, "one-year": 1.0, "two-year": 2.0}
# Direct ingress hands each replica a port from this range (Ray's default).
DIRECT_PORTS = range(30000, 30020)
PROXY_PORT = 8000


def serve_app(booster_json: bytearray) -> "Application":
    """The deployment, built after Ray's environment is set (Serve reads its flags on import)."""
    import xgboost as xgb
    from fastapi import FastAPI, HTTPException, Request
    from ray import serve

    api = FastAPI()

    @serve.deployment(ray_actor_options={"num_cpus": 0.25}, max_ongoing_requests=16)
    @serve.ingress(api)
    class ChurnModel:
        def __init__(self, model: bytearray) -> None:
            self.booster = xgb.Booster()
            self.booster.load_model(model)
            self.booster.set_param({"nthread": 1})

        @api.post("/predict")
        async def predict(self, request: Request) -> dict:
            if request.headers.get("authorization") != TOKEN:
                raise HTTPException(401)
            record = json.loads(await request.body())
            row = np.array([[record["tenure"], record["monthly_charges"],
                             record["total_charges"], CONTRACTS[record["contract_type"]]]],
                           dtype=np.float32)  # fmt: skip
            score = float(self.booster.inplace_predict(row)[0])
            return {"class": "yes" if score >= 0.5 else "no", "score": score,
                    "probabilities": {"no": 1 - score, "yes": score}}  # fmt: skip

    return ChurnModel.bind(booster_json)


def trained_booster() -> bytearray:
    """100 trees of depth 6 on 5,000 generated rows of 4 features, as the product's bench model."""
    import xgboost as xgb

    rng = np.random.default_rng(0)
    features = rng.normal(size=(5000, 4))
    labels = (features[:, 0] + rng.normal(size=5000) > 0).astype(int)
    params = {"objective": "binary:logistic", "max_depth": 6}
    booster = xgb.train(params, xgb.DMatrix(features, labels), num_boost_round=100)
    return booster.save_raw("json")


def answering_port(ports: range | list[int], timeout: float = 60) -> int:
    """The first port whose /predict answers (any HTTP status): where the replica listens."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for port in ports:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/predict", data=b"{}", method="POST"
            )
            try:
                urllib.request.urlopen(request, timeout=1)
                return port
            except urllib.error.HTTPError:
                return port
            except OSError:
                continue
        time.sleep(0.5)
    raise RuntimeError(f"no replica answered on {ports}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ingress", choices=INGRESS, default="direct")
    parser.add_argument("--vegeta", default=os.environ.get("VEGETA", "vegeta"))
    parser.add_argument("--rates", default="200,500")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    # Serve reads these on import: set before Ray is. Token authentication on and Ray's ports on
    # loopback, as the ML Service runs Ray (app/ray_runtime.py).
    os.environ["RAY_SERVE_ENABLE_DIRECT_INGRESS"] = INGRESS[args.ingress]
    os.environ["RAY_SERVE_THROUGHPUT_OPTIMIZED"] = "1"
    token_folder = tempfile.mkdtemp(prefix="plain-serve-")
    token_path = Path(token_folder) / "auth_token"
    token_path.write_text(secrets.token_hex(32))
    os.environ["RAY_AUTH_MODE"] = "token"
    os.environ["RAY_AUTH_TOKEN_PATH"] = str(token_path)
    import bench_serving
    import ray
    from ray import serve

    ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1")
    try:
        serve.start(http_options={"host": "127.0.0.1", "port": PROXY_PORT})
        serve.run(serve_app(trained_booster()), name="plain-churn", route_prefix="/")
        port = answering_port(DIRECT_PORTS if args.ingress == "direct" else [PROXY_PORT])
        url = f"http://127.0.0.1:{port}/predict"
        results: dict = {"ingress": args.ingress, "runs": args.runs, "rates": {}}
        for run in range(1, args.runs + 1):
            for rate in [int(value) for value in args.rates.split(",")]:
                header = f"Authorization: {TOKEN}"
                bench_serving.attack(args.vegeta, url, header, rate, 2.0)  # warm-up, discarded
                load = os.getloadavg()[0]
                answers, cpu_ms = bench_serving.attack(args.vegeta, url, header, rate, args.seconds)
                outcome = bench_serving.outcome_of(answers, cpu_ms, args.seconds, load)
                results["rates"].setdefault(str(rate), []).append(outcome)
                shown = {k: v for k, v in outcome.items() if k not in ("status_codes", "hops_ms")}
                print(f"run {run}: {rate} req/s {args.ingress}: {shown}", flush=True)
    finally:
        serve.shutdown()
        ray.shutdown()
        shutil.rmtree(token_folder, ignore_errors=True)
    if args.out is not None:
        args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
