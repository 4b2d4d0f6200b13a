"""Runs a verifier node, with its `/health` and `/metrics`, under the supervisor."""

from __future__ import annotations

from node.config import VerifierSettings
from node.logs import configure_logging
from node.metrics import Metrics
from node.server.app import NodeInfo, create_node_app
from node.server.component import ApiServer
from node.supervisor import Supervisor
from verifier.daemon import Verifier


def run_verifier(settings: VerifierSettings, verifier_class: type[Verifier] = Verifier) -> int:
    configure_logging(settings.log_level, settings.log_json)
    metrics = Metrics()
    verifier = verifier_class(settings, metrics)

    def app() -> object:
        return create_node_app(verifier.store, metrics, NodeInfo(verifier.address, settings.models))

    return Supervisor([verifier, ApiServer(app, settings.http_host, settings.http_port)]).run()
