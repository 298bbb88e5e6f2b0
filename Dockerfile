# syntax=docker/dockerfile:1
# The gRPC server (`interview-platform serve`) for production. Envoy runs in its own container
# and PostgreSQL is external: see docker-compose.yml. DATABASE_URL must be set (postgresql://...),
# otherwise the server would start an embedded PostgreSQL under DATA_DIR; SECRET_KEY (>= 32
# bytes) is required because ENVIRONMENT=production.
#
#   docker build -t interview-platform .
#   docker run --rm -e DATABASE_URL=postgresql://u:p@db:5432/d -e SECRET_KEY=... interview-platform
#   docker run --rm -e DATABASE_URL=... interview-platform migrate    # one-off migrations
#
# tests/deploy/test_deploy_config.py checks this file statically (no Docker engine in CI).

ARG PYTHON_IMAGE=python:3.11-slim

# --- build: a self-contained virtualenv in /opt/venv ---------------------------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
WORKDIR /src
# .dockerignore keeps .venv, .tools, var, .git and caches out of the context.
COPY . .
# All dependencies ship manylinux wheels, so no compiler is needed. The cache mount keeps
# downloaded wheels between builds without storing them in a layer.
RUN --mount=type=cache,target=/root/.cache/pip /opt/venv/bin/pip install .

# --- runtime ---------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    ENVIRONMENT=production \
    GRPC_HOST=0.0.0.0 \
    GRPC_PORT=50051 \
    DATA_DIR=/var/lib/interview-platform \
    LOG_FORMAT=json
# The sandbox for candidates' code: bubblewrap, prlimit (util-linux) and node for JavaScript.
# bwrap needs unprivileged user namespaces: run the container with a seccomp/AppArmor profile
# that allows them (e.g. docker run --security-opt seccomp=unconfined, or a custom profile);
# otherwise /health reports the sandbox down and coding answers are not run.
RUN apt-get update \
    && apt-get install -y --no-install-recommends bubblewrap util-linux nodejs \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --no-create-home \
       --home-dir /var/lib/interview-platform --shell /usr/sbin/nologin app \
    && install -d -o app -g app -m 0750 /var/lib/interview-platform
COPY --from=build /opt/venv /opt/venv
WORKDIR /var/lib/interview-platform
# Numeric, so that Kubernetes' runAsNonRoot can verify it.
USER 10001:10001
EXPOSE 50051
# The standard gRPC health service (grpc.health.v1), overall status ("" service). The server
# reports NOT_SERVING as soon as it starts shutting down.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["/opt/venv/bin/python", "-c", "import os,sys,grpc;from grpc_health.v1 import health_pb2 as h,health_pb2_grpc as g;c=grpc.insecure_channel('127.0.0.1:'+os.environ.get('GRPC_PORT','50051'),options=[('grpc.enable_http_proxy',0)]);sys.exit(g.HealthStub(c).Check(h.HealthCheckRequest(),timeout=3).status!=h.HealthCheckResponse.SERVING)"]
# Exec form: the server is PID 1 and gets SIGTERM itself (graceful stop, SHUTDOWN_GRACE_SECONDS).
# `serve` applies pending migrations first (under a PostgreSQL advisory lock); pass `migrate`
# as the command to run them alone.
ENTRYPOINT ["interview-platform"]
CMD ["serve"]
