# syntax=docker/dockerfile:1
# alertd container image. The base is a build argument so the image can be built where the official Python image
# cannot be pulled (any Debian-based image with python3, venv, tzdata and CA certificates works).
ARG BASE_IMAGE=python:3.12-slim

FROM ${BASE_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY alertd ./alertd
RUN python -m venv /opt/alertd \
 && /opt/alertd/bin/pip install --upgrade pip \
 && /opt/alertd/bin/pip install ".[postgres]" \
 && /opt/alertd/bin/python -m compileall -q -j 0 /opt/alertd/lib
# Bytecode stays in the image: the runtime user cannot write /opt/alertd, so without it every start of every
# command would compile alertd and its libraries from source again.

FROM ${BASE_IMAGE}
LABEL org.opencontainers.image.title="alertd" \
      org.opencontainers.image.description="Deadline and event alerting daemon" \
      org.opencontainers.image.licenses="Apache-2.0"
# tzdata is in the venv (the tzdata wheel) and usually in the base; the daemon never depends on the host's zone.
RUN groupadd --system --gid 10001 alertd \
 && useradd --system --uid 10001 --gid alertd --home-dir /data --shell /usr/sbin/nologin alertd \
 && mkdir -p /data /etc/alertd \
 && chown alertd:alertd /data \
 && chmod 0700 /data
COPY --from=build /opt/alertd /opt/alertd
COPY seeds/us-china-truce-2025.yaml /etc/alertd/calendar.yaml
ENV PATH=/opt/alertd/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    ALERTD_DATABASE_URL=sqlite:////data/alertd.db \
    ALERTD_CALENDAR=/etc/alertd/calendar.yaml \
    ALERTD_HTTP_HOST=0.0.0.0 \
    ALERTD_HTTP_PORT=8080 \
    ALERTD_DRAIN_TIMEOUT=8
USER alertd:alertd
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import os,sys,urllib.request; port=os.environ.get('ALERTD_HTTP_PORT','8080'); sys.exit(0 if urllib.request.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=4).status == 200 else 1)"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["alertd"]
CMD ["run"]
