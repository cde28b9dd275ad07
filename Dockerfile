# The gateway in a container: a slim Python base, the exact dependencies of requirements.lock,
# a non-root user, the SQLite database on a volume (/data), a health check on /readyz.
#   docker build -t availability-gateway .
#   docker run -p 8000:8000 -v gateway-data:/data availability-gateway
# (compose.yaml does the same and imports the demo shop on first start.)

# Build the project's wheel apart, so the sources never land in the final image.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY gateway ./gateway
RUN pip install --no-cache-dir --disable-pip-version-check 'setuptools>=77' wheel \
 && pip wheel --no-cache-dir --no-deps --no-build-isolation --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    GATEWAY_DATABASE=/data/gateway.sqlite3
WORKDIR /app
# Dependencies first: this layer changes only with the lock file.
COPY requirements.lock ./
RUN pip install -r requirements.lock
COPY --from=build /wheels /tmp/wheels
RUN pip install --no-deps /tmp/wheels/*.whl && rm -rf /tmp/wheels
# The demo shop, for `gateway import /app/data/demo-catalog.json` (compose's first start).
COPY data/demo-catalog.json ./data/demo-catalog.json

RUN useradd --system --uid 10001 --user-group --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin gateway \
 && mkdir -p /data && chown gateway:gateway /data
USER gateway
VOLUME ["/data"]
EXPOSE 8000
# Ready = the store answers and has room for writes (503 otherwise: not healthy).
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; r = urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2); sys.exit(r.status != 200)"]
CMD ["gateway", "serve", "--host", "0.0.0.0", "--port", "8000"]
