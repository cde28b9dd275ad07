"""Prometheus metrics (``gateway_*``): cheap on the hot path, summed over worker processes.

What is measured: HTTP answers by route and status; GraphQL requests by operation name and type
with a latency histogram; order outcomes; topology-cache and settings-memo hits; store
statement latency. Label sets are fixed and bounded: operation names come from clients, so only
names of at most 64 word characters count, and only the first :data:`MAX_OPERATION_NAMES`
distinct ones per process (later ones are counted as ``other``).

**Several worker processes.** ``gateway serve`` creates a private directory, hands it to every
worker in :class:`~gateway.settings.Settings` (``metrics_dir``) and removes it on exit. Each
worker writes its values to its own memory-mapped files there (prometheus-client's multiprocess
file format) and ``/metrics``, whichever worker answers, sums every worker's files. The
directory reaches prometheus-client through :func:`_directory_value_class` rather than the
``PROMETHEUS_MULTIPROC_DIR`` variable, which the library re-reads each time it opens a file:
the gateway never writes its own environment, and the directory comes from the settings like
everything else.

The hot path touches plain Python objects: label children are looked up once and kept, cache
hits stay plain integers on the caches and are added to the counters once per request.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable
from pathlib import Path
from time import perf_counter
from typing import Any, Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram, values
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.mmap_dict import MmapedDict, mmap_key
from prometheus_client.multiprocess import MultiProcessCollector

#: Distinct operation names counted per process; later names are counted as ``other``.
MAX_OPERATION_NAMES = 100
OPERATION_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
ROUTES = frozenset({"/graphql", "/healthz", "/readyz", "/metrics"})
REQUEST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)
STATEMENT_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1.0, 5.0)
CONTENT_TYPE = CONTENT_TYPE_LATEST


class CacheCounts(Protocol):
    """What the caches expose: running totals, read once per request."""

    topology_hits: int
    topology_misses: int

    @property
    def settings_cache(self) -> Any: ...


class GatewayMetrics:
    """The metrics of one process (one app); ``directory`` switches to multiprocess files."""

    def __init__(self, directory: str | None = None) -> None:
        self.directory = directory
        if directory is not None:
            _use_directory(directory)
        self.registry = registry = CollectorRegistry(auto_describe=False)
        self.http = Counter("gateway_http_requests", "HTTP answers by route and status.",
                            ("route", "status"), registry=registry)
        self.requests = Counter("gateway_graphql_requests",
                                "GraphQL requests by operation name and type.",
                                ("operation", "type"), registry=registry)
        self.latency = Histogram("gateway_graphql_request_duration_seconds",
                                 "GraphQL request latency (until the last byte is sent).",
                                 ("operation", "type"), buckets=REQUEST_BUCKETS,
                                 registry=registry)
        self.orders = Counter("gateway_orders", "Order operations by action and outcome "
                              "(placed/rejected/replayed, ok/refused) with the refusal code.",
                              ("action", "outcome", "code"), registry=registry)
        self.cache = Counter("gateway_cache_lookups", "Cache lookups by cache and result.",
                             ("cache", "result"), registry=registry)
        self.statements = Histogram("gateway_store_statement_duration_seconds",
                                    "Store statement latency.", buckets=STATEMENT_BUCKETS,
                                    registry=registry)
        self._names: set[str] = set()
        self._graphql: dict[tuple[str, str], tuple[Any, Any]] = {}
        self._http: dict[tuple[str, int], Any] = {}
        self._caches: CacheCounts | None = None
        self._synced = (0, 0, 0, 0)
        self._cache_children = [self.cache.labels(cache, result)
                                for cache in ("topology", "settings")
                                for result in ("hit", "miss")]

    # -- hot path ---------------------------------------------------------------------------

    def request_done(self, path: str, status: int, execution: Any, seconds: float) -> None:
        """Count one HTTP answer (and its GraphQL operation when it reached GraphQL)."""
        key = (path if path in ROUTES else "other", status)
        child = self._http.get(key)
        if child is None:
            child = self._http[key] = self.http.labels(key[0], str(status))
        child.inc()
        if execution is not None:
            counter, histogram = self._operation(execution)
            counter.inc()
            histogram.observe(seconds)
        if self._caches is not None:
            self._sync_caches(self._caches)

    def order_outcome(self, action: str, outcome: str, code: str = "") -> None:
        self.orders.labels(action, outcome, code).inc()

    # -- scraping ---------------------------------------------------------------------------

    def watch(self, caches: CacheCounts) -> None:
        """Report the hit counts of ``caches`` (the shared inventory reader)."""
        self._caches = caches

    def exposition(self) -> bytes:
        """Every metric in Prometheus text format, summed over worker processes."""
        if self.directory is None:
            return generate_latest(self.registry)
        registry = CollectorRegistry(auto_describe=False)
        MultiProcessCollector(registry, path=self.directory)
        return generate_latest(registry)

    # -- internals --------------------------------------------------------------------------

    def _operation(self, execution: Any) -> tuple[Any, Any]:
        try:
            kind = execution.operation_type.value
        except Exception:  # no document (parse error) or no such operation
            kind = "invalid"
        try:
            name = execution.operation_name
        except Exception:
            name = None
        label = self._name_label(name)
        key = (label, kind)
        children = self._graphql.get(key)
        if children is None:
            children = self._graphql[key] = (self.requests.labels(label, kind),
                                             self.latency.labels(label, kind))
        return children

    def _name_label(self, name: str | None) -> str:
        if name is None:
            return "anonymous"
        if name in self._names:
            return name
        if len(self._names) < MAX_OPERATION_NAMES and OPERATION_NAME.fullmatch(name):
            self._names.add(name)
            return name
        return "other"

    def _sync_caches(self, caches: CacheCounts) -> None:
        memo = caches.settings_cache
        now = (caches.topology_hits, caches.topology_misses, memo.hits, memo.misses)
        if now != self._synced:
            for child, new, old in zip(self._cache_children, now, self._synced, strict=True):
                if new > old:
                    child.inc(new - old)
            self._synced = now


_active: GatewayMetrics | None = None


def install(metrics: GatewayMetrics | None) -> None:
    """Make ``metrics`` the process's metrics (what the store and order hooks report to)."""
    global _active
    _active = metrics


def active() -> GatewayMetrics | None:
    return _active


statement_started: Callable[[], float] = perf_counter


def statement_done(started: float) -> None:
    """Record one store statement that began at ``started`` (a :func:`perf_counter` value)."""
    if _active is not None:
        _active.statements.observe(perf_counter() - started)


def order_outcome(action: str, outcome: str, code: str = "") -> None:
    """Count one order operation's outcome (no-op when metrics are off)."""
    if _active is not None:
        _active.order_outcome(action, outcome, code)


def clear_directory(directory: str | Path) -> None:
    """Remove the metric files a previous run left in ``directory``."""
    for file in Path(directory).glob("*.db"):
        file.unlink(missing_ok=True)


_directory: str | None = None


def _use_directory(directory: str) -> None:
    """Make every metric value of this process live in ``directory`` (once per process)."""
    global _directory
    if _directory == directory:
        return
    if _directory is not None:
        raise RuntimeError(f"metrics already write to {_directory}, not {directory}")
    values.ValueClass = _directory_value_class(directory)
    _directory = directory


def _directory_value_class(directory: str) -> type:
    """prometheus-client's multiprocess value (one ``<type>_<pid>.db`` file per metric type
    and process, the layout :class:`MultiProcessCollector` reads), with the directory given
    explicitly instead of read from the environment. Worker processes are spawned, never
    forked after this, so the pid is fixed."""
    files: dict[str, MmapedDict] = {}
    lock = threading.Lock()
    pid = os.getpid()

    class DirectoryValue:
        _multiprocess = True

        def __init__(self, typ: str, metric_name: str, name: str, labelnames: Any,
                     labelvalues: Any, help_text: str, multiprocess_mode: str = "",
                     **kwargs: Any) -> None:
            prefix = f"gauge_{multiprocess_mode}" if typ == "gauge" else typ
            with lock:
                file = files.get(prefix)
                if file is None:
                    file = files[prefix] = MmapedDict(
                        os.path.join(directory, f"{prefix}_{pid}.db"))
                self._file = file
                self._key = mmap_key(metric_name, name, labelnames, labelvalues, help_text)
                self._value: float = file.read_value(self._key)[0]

        def inc(self, amount: float) -> None:
            with lock:
                self._value += amount
                self._file.write_value(self._key, self._value, 0.0)

        def set(self, value: float, timestamp: float | None = None) -> None:
            with lock:
                self._value = value
                self._file.write_value(self._key, value, timestamp or 0.0)

        def set_exemplar(self, exemplar: Any) -> None:
            return None  # exemplars are not supported in multiprocess mode

        def get(self) -> float:
            return self._value

        def get_exemplar(self) -> None:
            return None

    return DirectoryValue
