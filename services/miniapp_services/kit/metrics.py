"""Prometheus metrics: requests, errors and latency per route, and the business counters."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# The events the business dashboard counts; services may only count these.
BUSINESS_EVENTS = ("page_view", "checkin", "order_created", "order_paid", "order_expired", "seckill_success")
# With a bucket at each journey objective (0.3, 0.5 and 0.8 s, plugins/module_utils/journey_slos.py), so a
# p99 is never interpolated across one; a unit test keeps the two in step.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.3, 0.5, 0.8, 1.0, 2.5, 5.0)
# Per tenant, of whom there are hundreds: fewer buckets (9 series per tenant and outcome), still one at each
# journey objective.
TENANT_BUCKETS = (0.05, 0.1, 0.3, 0.5, 0.8, 2.5)


@dataclass
class Metrics:
    """One registry per application, so that two apps in one process never share series."""

    service: str
    version: str
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    _stock: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        labels = ("service", "version", "route", "method", "code")
        self.requests = Counter("miniapp_http_requests", "HTTP requests served", labels, registry=self.registry)
        self.latency = Histogram(
            "miniapp_http_request_duration_seconds",
            "HTTP request latency",
            labels[:4],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.grpc = Counter(
            "miniapp_grpc_requests",
            "gRPC calls served",
            ("service", "version", "method", "code"),
            registry=self.registry,
        )
        self.in_flight = Gauge("miniapp_http_in_flight", "requests being served", ("service",), registry=self.registry)
        self.rejected = Counter(
            "miniapp_http_rejected_overload",
            "requests refused at the concurrency bound",
            ("service",),
            registry=self.registry,
        )
        self.business = Counter(
            "miniapp_business_events", "business events", ("service", "version", "event"), registry=self.registry
        )
        self.breaker = Gauge(
            "miniapp_breaker_state",
            "1 for each endpoint's current breaker state (closed, open, half_open)",
            ("service", "endpoint", "state"),
            registry=self.registry,
        )
        self.degraded = Counter(
            "miniapp_degraded",
            "requests answered by a fallback, by reason: over_rate, breaker_open, call_failed",
            ("service", "endpoint", "reason"),
            registry=self.registry,
        )
        self.tenant_latency = Histogram(
            "miniapp_tenant_request_duration_seconds",
            "admitted sessions' requests by tenant (appid) and outcome: ok, limited (429, over the tenant's rate),"
            " refused (any other 4xx), error (5xx)",
            ("service", "tenant", "outcome"),
            buckets=TENANT_BUCKETS,
            registry=self.registry,
        )
        self.rules_reloads = Counter(
            "miniapp_rules_reloads", "rules file loads, by result", ("service", "result"), registry=self.registry
        )
        self.stock = Gauge(
            "miniapp_stock_remaining", "units left for sale", ("service", "item"), registry=self.registry
        )

    def breaker_state(self, endpoint: str, state: str, states: tuple[str, ...]) -> None:
        for each in states:
            self.breaker.labels(self.service, endpoint, each).set(1 if each == state else 0)

    def stock_left(self, item: str, units: int, *, restock: bool = False) -> None:
        """Units of a limited item (a flash-sale event) still for sale. Only restocking raises the figure:
        concurrent sales finish in any order, and the lowest count seen is the latest."""
        if restock or units < self._stock.get(item, units + 1):
            self._stock[item] = units
            self.stock.labels(self.service, item).set(units)

    def observe_http(self, route: str, method: str, code: int, seconds: float, trace_id: str | None = None) -> None:
        """Count and time a request; its trace id rides along as an exemplar (OpenMetrics scrapes carry it,
        and Grafana links it to the request's log lines)."""
        exemplar = {"trace_id": trace_id} if trace_id else None
        self.requests.labels(self.service, self.version, route, method, str(code)).inc(exemplar=exemplar)
        self.latency.labels(self.service, self.version, route, method).observe(seconds, exemplar=exemplar)

    def observe_tenant(self, tenant: str, code: int, seconds: float) -> None:
        """Count and time a request of a tenant's admitted session, by its outcome."""
        self.tenant_latency.labels(self.service, tenant, tenant_outcome(code)).observe(seconds)

    def count(self, event: str, amount: int = 1) -> None:
        """Count a business event; an unknown event name is a programming error."""
        if event not in BUSINESS_EVENTS:
            raise ValueError(f"unknown business event {event!r}; known: {BUSINESS_EVENTS}")
        self.business.labels(self.service, self.version, event).inc(amount)


def tenant_outcome(code: int) -> str:
    """What a tenant's request came to, from its status: the per-tenant dashboard's rates, refusals and errors."""
    if code == 429:
        return "limited"
    if code >= 500:
        return "error"
    return "refused" if code >= 400 else "ok"
