# ML Service (FastAPI on Ray). The same image runs the Ray head (with the ML Service as its driver)
# and the Ray workers. Build context: the repository root.
FROM python:3.11-slim-bookworm
RUN pip install --no-cache-dir uv==0.13.9
WORKDIR /app
COPY ml-service/requirements.lock ./requirements.lock
# psycopg2/boto3 let the service reach MLflow's PostgreSQL/S3 stores directly when configured so.
RUN uv pip install --system --no-cache -r requirements.lock psycopg2-binary==2.9.11 boto3==1.40.61 \
 && python -m compileall -q -j 0 /usr/local/lib/python3.11/site-packages >/dev/null || true
COPY ml-service/app ./app
COPY docker/ml-service-entrypoint.sh /usr/local/bin/ml-service-entrypoint
ENV MLS_HOST=0.0.0.0 MLS_PORT=8000 MLS_DATA_DIR=/data RAY_TRAIN_V2_ENABLED=1
VOLUME ["/data"]
EXPOSE 8000
ENTRYPOINT ["ml-service-entrypoint"]
CMD ["head"]
