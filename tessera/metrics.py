"""Prometheus metrics: HTTP requests by route and status with latency, payments by outcome, webhook
attempts by outcome."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

CONTENT_TYPE = CONTENT_TYPE_LATEST

_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "tessera_http_requests", "HTTP requests", ("method", "route", "status"), registry=self.registry
        )
        self.latency = Histogram(
            "tessera_http_request_duration_seconds",
            "HTTP request latency",
            ("method", "route"),
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.payments = Counter(
            "tessera_payments", "Payments by final outcome", ("status", "error_code"), registry=self.registry
        )

        self.webhook_attempts = Counter(
            "tessera_webhook_attempts", "Webhook delivery attempts by outcome", ("outcome",), registry=self.registry
        )

    def webhook_attempt(self, succeeded: bool) -> None:
        self.webhook_attempts.labels("succeeded" if succeeded else "failed").inc()

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def payment_finished(self, status: str, error_code: str | None) -> None:
        self.payments.labels(status, error_code or "").inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
