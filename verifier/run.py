"""Runs a verifier node under the supervisor."""

from __future__ import annotations

from node.config import VerifierSettings
from node.logs import configure_logging
from node.supervisor import Supervisor
from verifier.daemon import Verifier


def run_verifier(settings: VerifierSettings) -> int:
    configure_logging(settings.log_level, settings.log_json)
    return Supervisor([Verifier(settings)]).run()
