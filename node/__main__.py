"""`python -m node`: run a worker node (configuration from NIGHTSHIFT_* environment variables)."""

from __future__ import annotations

import sys

from pydantic import ValidationError
from pydantic_settings import SettingsError

from node.errors import NightshiftError
from node.logs import configure_logging


def main() -> int:
    from node.config import WorkerSettings
    from node.metrics import Metrics
    from node.server.app import NodeInfo, create_app
    from node.server.component import ApiServer
    from node.supervisor import Supervisor
    from node.worker import Worker

    try:
        settings = WorkerSettings()
    except ValidationError as exc:
        print(f"invalid configuration: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}", file=sys.stderr)
        return 2
    except SettingsError as exc:
        print(f"invalid configuration: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.log_json)
    metrics = Metrics()
    worker = Worker(settings, metrics)

    def app() -> object:
        info = NodeInfo(worker.address, settings.models, withhold=settings.faults.withhold)
        return create_app(worker.store, metrics, info)

    try:
        return Supervisor([worker, ApiServer(app, settings.http_host, settings.http_port)]).run()
    except NightshiftError as exc:
        print(f"worker failed: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
