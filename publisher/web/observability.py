"""What operators watch: one access-log line per request, /ready, and /metrics.

The access log is JSON, one object per line, on the `kiezgraph.access` logger: method, path
(never the query string, which may hold a whole SPARQL text), route, status, duration and,
for SPARQL, a short SHA-256 of the query text so a slow query can be found again without
logging what it says.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from pathlib import Path

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from publisher import metrics
from publisher.releases import Release, report_conforms
from publisher.store import StoreError
from publisher.web.cache import render_cache
from publisher.web.state import Slot, served

__all__ = ["ACCESS_LOG", "METHODS", "OTHER", "bp", "init_app", "query_hash", "record",
           "registry"]

ACCESS_LOG = logging.getLogger("kiezgraph.access")
_UNMATCHED = "<unmatched>"
# Every label takes its values from a fixed set, so no client can make new series: methods
# outside this set count as "other", paths by their route template (or _UNMATCHED), status
# codes outside 100-599 as "other".
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE",
                     "CONNECT"})
OTHER = "other"
# Latency buckets in seconds: dereferencing is meant to answer within milliseconds,
# SPARQL may take up to query_timeout.
_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

bp = Blueprint("observability", __name__)


class _CacheCollector:
    """The render cache's hit and miss counts, read when /metrics is scraped."""

    def __init__(self, app: Flask):
        self.app = app

    def collect(self):
        """Yield the cache counters."""
        cache = render_cache(self.app)
        family = CounterMetricFamily("kiezgraph_render_cache_lookups",
                                     "Lookups in the cache of rendered representations.",
                                     labels=["result"])
        family.add_metric(["hit"], cache.hits)
        family.add_metric(["miss"], cache.misses)
        yield family


class _AppMetrics:
    """The per-app metrics: requests and their latency by route (the URL rule, not the path)."""

    def __init__(self, app: Flask):
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("kiezgraph_http_requests", "HTTP requests answered.",
                                ("method", "route", "status"), registry=self.registry)
        self.latency = Histogram("kiezgraph_http_request_duration_seconds",
                                 "Time from the request's arrival to its response.",
                                 ("route",), buckets=_BUCKETS, registry=self.registry)
        self.in_flight = Gauge("kiezgraph_http_requests_in_flight",
                               "Requests being answered right now.", registry=self.registry)
        self.registry.register(_CacheCollector(app))


_METRICS = Slot("kiezgraph.metrics", _AppMetrics)


def registry(app: Flask | None = None) -> CollectorRegistry:
    """The app's own metrics registry (the process-wide counters are in publisher.metrics)."""
    return _METRICS.get(app).registry


def init_app(app: Flask) -> None:
    """Time and log every request, and register /ready and /metrics."""
    _METRICS.put(app, _AppMetrics(app))
    app.before_request(_start)
    app.after_request(_finish)
    app.register_blueprint(bp)


def query_hash(text: str) -> str:
    """A short fingerprint of a query text: enough to find it again, nothing of its content."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _sparql_text() -> str | None:
    """The query text of a SPARQL request, if it carried one (never raises)."""
    try:
        text = request.args.get("query")
        if text is None and request.method == "POST":
            if request.mimetype == "application/x-www-form-urlencoded":
                text = request.form.get("query")
            elif request.mimetype == "application/sparql-query":
                text = request.get_data(cache=True).decode("utf-8", "replace")
        return text
    except Exception:  # an oversized or malformed body: the response already says so
        return None


def _start() -> None:
    g.kiezgraph_started = time.perf_counter()
    _METRICS.get().in_flight.inc()
    g.kiezgraph_in_flight = True


def _finish(response: Response) -> Response:
    started = g.get("kiezgraph_started")
    seconds = time.perf_counter() - started if started is not None else 0.0
    if g.pop("kiezgraph_in_flight", False):
        _METRICS.get().in_flight.dec()
    route = request.url_rule.rule if request.url_rule is not None else _UNMATCHED
    extra = {}
    if request.endpoint == "sparql.endpoint" and ACCESS_LOG.isEnabledFor(logging.INFO):
        text = _sparql_text()
        if text:
            extra["query_hash"] = query_hash(text)
    record(current_app, request.method, request.path, route, response.status_code, seconds,
           extra)
    return response


def record(app: Flask, method: str, path: str, route: str, status: int, seconds: float,
           extra: dict | None = None) -> None:
    """Count and log one answered request (also for answers sent without Flask's dispatch)."""
    state = _METRICS.get(app)
    known = method if method in METHODS else OTHER
    state.requests.labels(known, route, str(status) if 100 <= status <= 599 else OTHER).inc()
    state.latency.labels(route).observe(seconds)
    if ACCESS_LOG.isEnabledFor(logging.INFO):
        line = {"method": method[:16], "path": path[:512], "route": route,
                "status": status, "ms": round(seconds * 1000, 2), **(extra or {})}
        ACCESS_LOG.info(json.dumps(line, ensure_ascii=True))


@bp.get("/metrics")
def metrics_view() -> Response:
    """Prometheus text format: this app's request metrics and the process-wide counters."""
    body = generate_latest(registry()) + generate_latest(metrics.REGISTRY)
    response = Response(body, content_type=CONTENT_TYPE_LATEST)
    response.cache_control.no_store = True
    return response


def _release_valid(release: Release) -> str | None:
    """Why a release cannot be served, or None (build refuses invalid data; check it did)."""
    report = Path(release.path) / "validation.txt"
    try:
        text = report.read_text(encoding="utf-8")
    except OSError:
        return "the build has no validation report"
    if not report_conforms(text):
        return "the build's validation report does not say it conforms"
    if not release.info.get("triples"):
        return "the build holds no triples"
    return None


_LOOPBACK = frozenset({"127.0.0.1", "::1"})


@bp.get("/ready")
def ready() -> Response:
    """Readiness: 200 once a valid graph is loaded and answers, else 503 (with the reason)."""
    state = served()
    published = state.published
    body: dict = {"build_id": published.build_id, "problems": list(state.problems)}
    reason = None
    if published.store is None:
        reason = "no store"
    elif published.release is not None:
        reason = _release_valid(published.release)
    operator = request.remote_addr in _LOOPBACK  # asked on the machine itself
    if reason is None and not published.store.ping():
        # why names the store's internal address: for the operator, not the public
        detail = getattr(published.store, "unavailable_reason", "")
        reason = f"the store does not answer: {detail}" if operator and detail \
            else "the store does not answer"
    if reason is None:
        try:
            body["triples"] = published.store.triple_count()
        except StoreError as exc:
            reason = f"the store does not answer: {exc}" if operator \
                else "the store does not answer"
        else:
            if not body["triples"]:
                reason = "the graph is empty"
    body["status"] = "ready" if reason is None else "not ready"
    if reason is not None:
        body["reason"] = reason
    response = jsonify(body)
    response.cache_control.no_store = True
    if reason is not None:
        response.status_code = 503
        response.headers["Retry-After"] = "10"
    return response
