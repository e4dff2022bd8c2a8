"""Issue 11's eight-query reproducer, measured: one tenant sends eight recursive CTEs at once; how
fast do another tenant's plain listing and both readiness probes answer meanwhile?

Starts its own stack (bench/stack.py: both services on spare loopback ports, a temporary data
folder, the demo warehouse of acme-corp). Phase 1 (baseline) times `--samples` rounds of: acme's
`GET /api/v1/ml/datasets` through the AI Service, the AI Service's `/health/ready`, the ML
Service's `/health/ready`. Phase 2 sends the eight queries of `heavy-tenant` to the ML Service's
`POST /api/v1/datasets/schema` (as the AI Service forwards a dataset query) and repeats the same
rounds while they run. Prints, per call, the median and the slowest answer of both phases and
every status seen, and what each heavy query answered (a 429 when the tenant's bound of concurrent
warehouse work is taken, a 504 when `MLS_QUERY_TIMEOUT_SECONDS` stopped it) and when.

`--bound 500000` is the issue's query (a few seconds each); the default never ends within the
time limit, as "a query that never ends". Figures only mean something on a quiet machine.

Run from the repository root: `./bench/warehouse/run.sh` (`--help` for options).
"""

import argparse
import json
import statistics
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
from stack import Stack, service_headers, start_stack

OTHER_TENANT, OTHER_KEY = "acme-corp", "bench-acme-key"
HEAVY_TENANT = "heavy-tenant"
QUERIES = 8


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--bound",
        type=int,
        default=500_000_000,
        help="the CTE counts to this (default: never ends within the time limit; 500000: the issue's)",
    )
    parser.add_argument("--samples", type=int, default=10, help="rounds of calls per phase")
    parser.add_argument("--out", type=Path, help="write the figures as JSON here")
    return parser.parse_args(argv)


def call(url: str, headers: dict[str, str], body: dict | None = None) -> tuple[int, float, dict]:
    """One request: (status, seconds, JSON body or {})."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={**headers, "Content-Type": "application/json"})
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    elapsed = time.perf_counter() - started
    try:
        parsed = json.loads(raw) if raw else {}
    except ValueError:
        parsed = {}
    return status, elapsed, parsed if isinstance(parsed, dict) else {}


def probe_rounds(stack: Stack, samples: int) -> dict:
    """`samples` rounds of the three light calls: per call, median and slowest seconds, statuses."""
    calls = {
        "other tenant's listing (AI)": (f"{stack.ai_url}/api/v1/ml/datasets", {"X-API-Key": OTHER_KEY}),
        "AI /health/ready": (f"{stack.ai_url}/health/ready", {}),
        "ML /health/ready": (f"{stack.ml_url}/health/ready", {}),
    }
    seen: dict[str, list[tuple[int, float]]] = {name: [] for name in calls}
    for _ in range(samples):
        for name, (url, headers) in calls.items():
            status, seconds, _ = call(url, headers)
            seen[name].append((status, seconds))
    return {
        name: {
            "median_s": round(statistics.median(s for _, s in answers), 3),
            "max_s": round(max(s for _, s in answers), 3),
            "statuses": sorted({status for status, _ in answers}),
            "samples": len(answers),
        }
        for name, answers in seen.items()
        if answers
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    query = (
        "WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM t WHERE n < "
        f"{args.bound}) SELECT n FROM t"
    )
    stack = start_stack("mls-bench-warehouse-", OTHER_TENANT, OTHER_KEY, seed_demo_data=True)
    try:
        baseline = probe_rounds(stack, args.samples)
        heavy_headers = {**service_headers(), "X-Tenant-ID": HEAVY_TENANT}
        started = time.perf_counter()

        def heavy(_: int) -> dict:
            status, seconds, body = call(
                f"{stack.ml_url}/api/v1/datasets/schema", heavy_headers, {"source": "sql", "query": query}
            )
            return {"status": status, "answered_after_s": round(seconds, 2), "detail": body.get("detail")}

        with ThreadPoolExecutor(max_workers=QUERIES) as senders:
            futures = [senders.submit(heavy, index) for index in range(QUERIES)]
            time.sleep(0.5)  # the eight are admitted or refused before the rounds start
            # Rounds for as long as a heavy query is still running (at least one round).
            rounds: list[dict] = []
            while True:
                rounds.append(probe_rounds(stack, 1))
                if all(future.done() for future in futures) or len(rounds) >= 10 * args.samples:
                    break
            heavy_results = [future.result() for future in futures]
        loaded: dict = {}
        for name in rounds[0]:
            answers = [r[name] for r in rounds]
            loaded[name] = {
                "median_s": round(statistics.median(a["median_s"] for a in answers), 3),
                "max_s": round(max(a["max_s"] for a in answers), 3),
                "statuses": sorted({s for a in answers for s in a["statuses"]}),
                "samples": len(answers),
            }
        results = {
            "query": query,
            "heavy_queries": sorted(heavy_results, key=lambda r: r["answered_after_s"]),
            "heavy_phase_s": round(time.perf_counter() - started, 1),
            "baseline": baseline,
            "while_heavy": loaded,
        }
    finally:
        stack.stop()

    print(f"eight queries from {HEAVY_TENANT}: {query}")
    for result in results["heavy_queries"]:
        print(f"  {result['status']} after {result['answered_after_s']:6.2f} s  {result['detail'] or ''}"[:160])
    print(f"\n{'call':32} {'baseline median / max':>24} {'while heavy median / max':>26}  statuses")
    for name, before in results["baseline"].items():
        after = results["while_heavy"][name]
        print(
            f"{name:32} {before['median_s']:>10.3f} / {before['max_s']:<10.3f}"
            f" {after['median_s']:>12.3f} / {after['max_s']:<10.3f}  {before['statuses']} -> {after['statuses']}"
        )
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
