"""Tests of the ML Service. `app` is imported first, before any test module imports Ray: its
process-wide environment (Ray's single-machine mode, Serve's throughput mode) is read by Ray at
import time."""

import app  # noqa: F401
