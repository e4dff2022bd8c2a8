"""ML Service: training on Ray, tracking in MLflow, tenant warehouses in DuckDB."""

import os

__version__ = "0.1.0"

# Ray reads this when ray.train is first imported, in this process and in its workers (the
# workers get it through the job's runtime_env, see app/ray_runtime.py).
os.environ.setdefault("RAY_TRAIN_V2_ENABLED", "1")
