"""ydata-profiling (minimal mode) on a Parquet file, run in bench/.venv-eda: prints its time and
the statistics bench.py compares, as JSON."""

import json
import sys
import time

import pandas as pd
from ydata_profiling import ProfileReport


def main(path: str) -> None:
    frame = pd.read_parquet(path)
    started = time.perf_counter()
    description = ProfileReport(frame, minimal=True, progress_bar=False).get_description()
    seconds = time.perf_counter() - started
    columns = {}
    for name, stats in description.variables.items():
        entry = {"n_missing": int(stats["n_missing"]), "n_distinct": int(stats["n_distinct"])}
        for key in ("mean", "std", "5%", "25%", "50%", "75%", "95%"):
            if key in stats:
                entry[key] = float(stats[key])
        columns[name] = entry
    print(json.dumps({"seconds": seconds, "columns": columns}))


if __name__ == "__main__":
    main(sys.argv[1])
