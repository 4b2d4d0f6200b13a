"""Runs a worker node: the daemon and its result API under one supervisor."""

from __future__ import annotations

from collections.abc import Callable

from node.config import WorkerSettings
from node.logs import configure_logging
from node.metrics import Metrics
from node.server.app import NodeInfo, create_app
from node.server.component import ApiServer
from node.store import Store
from node.supervisor import Supervisor
from node.worker.daemon import Worker


def run_worker(settings: WorkerSettings) -> int:
    configure_logging(settings.log_level, settings.log_json)
    worker = Worker(settings, Metrics())
    return supervise(worker, lambda: worker.store)


def supervise(worker: Worker, served: Callable[[], Store]) -> int:
    """Runs `worker` and its API, which serves the results found in the store `served` returns
    once the worker is set up (the worker's own; a fault-injection wrapper hands the API another
    view of it)."""
    s = worker.settings

    def app() -> object:
        return create_app(served(), worker.metrics, NodeInfo(worker.address, s.models), worker.streams)

    return Supervisor([worker, ApiServer(app, s.http_host, s.http_port)]).run()
