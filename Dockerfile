# The newsflow image for docker-compose: Airflow 3.3 with the newsflow package and DAGs.
FROM apache/airflow:3.3.2-python3.11
# `type: git` sources run the git command line
USER root
RUN command -v git >/dev/null || \
    (apt-get update && apt-get install -y --no-install-recommends git && rm -rf /var/lib/apt/lists/*)
USER airflow
COPY --chown=airflow:root pyproject.toml README.md /opt/newsflow/
COPY --chown=airflow:root pipeline /opt/newsflow/pipeline
COPY --chown=airflow:root schemas /opt/newsflow/schemas
RUN pip install --no-cache-dir /opt/newsflow
COPY --chown=airflow:root dags /opt/airflow/dags
COPY --chown=airflow:root sources.yaml /opt/newsflow/sources.yaml
COPY --chown=airflow:root samples /opt/newsflow/samples
