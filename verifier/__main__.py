"""`python -m verifier`: run a verifier node (configuration from NIGHTSHIFT_* environment variables)."""

from __future__ import annotations

import sys

from pydantic import ValidationError
from pydantic_settings import SettingsError

from node.errors import NightshiftError
from node.logs import configure_logging


def main() -> int:
    from node.config import VerifierSettings
    from node.supervisor import Supervisor
    from verifier.daemon import Verifier

    try:
        settings = VerifierSettings()
    except ValidationError as exc:
        print(f"invalid configuration: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}", file=sys.stderr)
        return 2
    except SettingsError as exc:
        print(f"invalid configuration: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.log_json)
    try:
        return Supervisor([Verifier(settings)]).run()
    except NightshiftError as exc:
        print(f"verifier failed: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
