"""Runs a worker node: the daemon and its result API under one supervisor."""

from __future__ import annotations

from node.config import WorkerSettings
from node.logs import configure_logging
from node.metrics import Metrics
from node.server.app import NodeInfo, create_app
from node.server.component import ApiServer
from node.supervisor import Supervisor
from node.worker.daemon import Worker


def run_worker(settings: WorkerSettings) -> int:
    configure_logging(settings.log_level, settings.log_json)
    metrics = Metrics()
    worker = Worker(settings, metrics)

    def app() -> object:
        info = NodeInfo(worker.address, settings.models, settings.faults.withhold)
        return create_app(worker.store, metrics, info, worker.streams)

    return Supervisor([worker, ApiServer(app, settings.http_host, settings.http_port)]).run()
