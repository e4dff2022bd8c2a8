# ML Service (FastAPI on Ray). The same image runs the Ray head (with the ML Service as its driver)
# and the Ray workers. Build context: the repository root.
FROM python:3.11-slim-bookworm
RUN pip install --no-cache-dir uv==0.13.9
WORKDIR /app
COPY ml-service/requirements.lock ./requirements.lock
# psycopg2/boto3 let the service reach MLflow's PostgreSQL/S3 stores directly when configured so.
# Byte-compiling ahead saves each Ray worker's first imports; compileall exits non-zero for the odd
# file some packages ship that does not compile (templates, other Pythons' syntax), so only that
# step may fail: a failed install must fail the build.
RUN uv pip install --system --no-cache -r requirements.lock psycopg2-binary==2.9.11 boto3==1.40.61 \
 && (python -m compileall -q -j 0 /usr/local/lib/python3.11/site-packages >/dev/null || true)
# Feast (feature sets) in its own environment: it needs pandas < 3 (docs/architecture.md, "Feature
# store"); the ML Service starts feature-store/feast_worker.py with this Python.
COPY ml-service/feature-store/requirements.lock ./feature-store/requirements.lock
RUN uv venv --python 3.11 /opt/feature-store \
 && uv pip install --python /opt/feature-store/bin/python --no-cache -r feature-store/requirements.lock \
 && (/opt/feature-store/bin/python -m compileall -q -j 0 /opt/feature-store/lib >/dev/null || true)
COPY ml-service/feature-store/feast_worker.py ./feature-store/feast_worker.py
COPY ml-service/app ./app
COPY docker/ml-service-entrypoint.sh /usr/local/bin/ml-service-entrypoint
ENV MLS_HOST=0.0.0.0 MLS_PORT=8000 MLS_DATA_DIR=/data RAY_TRAIN_V2_ENABLED=1 \
    MLS_FEATURE_STORE_PYTHON=/opt/feature-store/bin/python
VOLUME ["/data"]
EXPOSE 8000
ENTRYPOINT ["ml-service-entrypoint"]
CMD ["head"]
