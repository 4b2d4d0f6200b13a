"""Prometheus metrics of a node, in their own registry (served at /metrics)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.events = Counter("nightshift_events_total", "Chain events handled", ["event"], registry=self.registry)
        self.batches = Counter("nightshift_batches_total", "Batches by step", ["step"], registry=self.registry)
        self.jobs = Counter("nightshift_jobs_total", "Jobs computed", ["model"], registry=self.registry)
        self.inference_seconds = Histogram(
            "nightshift_inference_seconds", "Inference time per batch", ["model"], registry=self.registry
        )
        self.transactions = Counter(
            "nightshift_transactions_total", "Transactions sent", ["action"], registry=self.registry
        )
        self.races = Counter(
            "nightshift_expected_races_total", "Expected races lost", ["error"], registry=self.registry
        )
        self.verdicts = Counter("nightshift_verdicts_total", "Verdicts posted", ["verdict"], registry=self.registry)
        self.cursor = Gauge("nightshift_cursor_block", "Last block processed", registry=self.registry)

    def render(self) -> bytes:
        return generate_latest(self.registry)
