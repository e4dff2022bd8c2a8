"""Schemathesis over both OpenAPI documents against a throw-away local stack (issue 11).

Starts the ML Service and the AI Service on spare loopback ports with a temporary data folder (as
the benchmarks do, bench/stack.py), then lets Schemathesis generate requests for every operation of
`openapi/ml-service.json` (as the AI Service calls it: the service token and a tenant header) and of
`openapi/ai-service.json` (as a user calls it: a tenant's API key). A run fails on any 5xx
(`not_a_server_error`: a user's request, however malformed, never breaks a service) and on any
answer the document does not describe: a status code it does not list for the operation
(`status_code_conformance`), a media type it does not list for that status
(`content_type_conformance`), a body that does not match the status's schema
(`response_schema_conformance`). The error answers are declared once per service, not per route
(docs/contract.md, "Errors"), so a route added later is covered without edits.

Bounded for CI: a fixed number of examples per operation (FUZZ_MAX_EXAMPLES, default 5) and a
fixed seed (FUZZ_SEED) so a failure replays; the JUnit reports land in the folder given as the
first argument (scripts/test.sh sums them).

Usage: ml-service/.venv/bin/python scripts/fuzz-openapi.py [REPORT_DIR]
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

# bench/stack.py: the benchmarks' throw-away stack (both services, spare ports, temp data folder)
from stack import start_stack

TENANT = "fuzz-tenant"
API_KEY = "fuzz-tenant-key"
# A 5xx, then an answer the document does not describe (status code, media type, body schema).
CHECKS = (
    "not_a_server_error,"
    "status_code_conformance,content_type_conformance,response_schema_conformance"
)


def start_schemathesis(
    document: str, base_url: str, headers: list[str], report_dir: Path
) -> tuple[subprocess.Popen, Path, Path]:
    """Starts one Schemathesis run over `document`; returns the process, its output file and its
    working folder."""
    name = Path(document).stem
    # Its own working folder, outside the report folder (scripts/test-summary.js reads every file
    # there): Schemathesis keeps what it learnt (.schemathesis/) in it, and a fresh one each run
    # keeps runs reproducible from the seed.
    work = Path(tempfile.mkdtemp(prefix=f"schemathesis-{name}-"))
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "run",
        str(ROOT / "openapi" / document),
        "--url",
        base_url,
        "--checks",
        CHECKS,
        # Examples, boundary cases, then generated cases; the stateful phase (chains of calls)
        # is left out: it repeats until a time budget is spent, not bounded by examples.
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        os.environ.get("FUZZ_MAX_EXAMPLES", "5"),
        "--seed",
        os.environ.get("FUZZ_SEED", "11"),
        # One worker per document, the two documents at once: Hypothesis in several threads of
        # one process on Python 3.11 once failed with "AST constructor recursion depth mismatch".
        "--workers",
        "1",
        "--request-timeout",
        "60",
        "--no-shrink",
        "--report",
        "junit",
        "--report-junit-path",
        str(report_dir / f"schemathesis-{name}.xml"),
        *[arg for header in headers for arg in ("-H", header)],
    ]
    output = report_dir / f"schemathesis-{name}.log"
    process = subprocess.Popen(command, cwd=work, stdout=output.open("w"), stderr=subprocess.STDOUT)
    return process, output, work


def main() -> int:
    report_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="fuzz-"))
    started = time.monotonic()
    stack = start_stack("mls-fuzz-", TENANT, API_KEY, seed_demo_data=True)
    print(f"[fuzz] stack ready in {time.monotonic() - started:.0f} s: ML {stack.ml_url}, AI {stack.ai_url}", flush=True)
    codes = []
    try:
        token = os.environ["MLS_SERVICE_TOKEN"]
        started = time.monotonic()
        runs = [
            start_schemathesis(
                "ml-service.json",
                stack.ml_url,
                [f"Authorization: Bearer {token}", f"X-Tenant-ID: {TENANT}"],
                report_dir,
            ),
            start_schemathesis(
                "ai-service.json", stack.ai_url, [f"X-API-Key: {API_KEY}"], report_dir
            ),
        ]
        for process, output, work in runs:
            codes.append(process.wait())
            shutil.rmtree(work, ignore_errors=True)
            print(output.read_text(), flush=True)
        print(f"[fuzz] both documents in {time.monotonic() - started:.0f} s: exit {codes}", flush=True)
    finally:
        # The services' logs outlive the stack's data folder, to read a failure's server side.
        for log in ("ml-service.log", "ai-service.log"):
            shutil.copy(stack.data_dir / log, report_dir / f"fuzz-{log}")
        print(f"[fuzz] reports and service logs: {report_dir}", flush=True)
        stack.stop()
    return 0 if codes and all(code == 0 for code in codes) else 1


if __name__ == "__main__":
    sys.exit(main())
