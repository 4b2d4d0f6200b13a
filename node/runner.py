"""Starts a worker or a verifier under the supervisor (used by `python -m ...` and the CLI)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError
from pydantic_settings import SettingsError

from node.config import VerifierSettings, WorkerSettings
from node.errors import NightshiftError
from node.logs import configure_logging
from node.metrics import Metrics
from node.server.app import NodeInfo, create_app
from node.server.component import ApiServer
from node.supervisor import Supervisor


def run_worker(settings: WorkerSettings) -> int:
    from node.worker import Worker

    configure_logging(settings.log_level, settings.log_json)
    metrics = Metrics()
    worker = Worker(settings, metrics)

    def app() -> object:
        return create_app(worker.store, metrics, NodeInfo(worker.address, settings.models, settings.faults.withhold))

    return Supervisor([worker, ApiServer(app, settings.http_host, settings.http_port)]).run()


def run_verifier(settings: VerifierSettings) -> int:
    from verifier.daemon import Verifier

    configure_logging(settings.log_level, settings.log_json)
    return Supervisor([Verifier(settings)]).run()


def entrypoint(settings_factory: Callable[[], Any], run: Callable[[Any], int], label: str) -> int:
    """`python -m node` / `python -m verifier`: settings from the environment, errors in one line."""
    try:
        return run(settings_factory())
    except (ValidationError, SettingsError) as exc:
        print(f"invalid configuration: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 2
    except NightshiftError as exc:
        print(f"{label} failed: {exc}", file=sys.stderr)
        return 1
