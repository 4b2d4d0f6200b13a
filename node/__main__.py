"""`python -m node`: run a worker node (configuration from NIGHTSHIFT_* environment variables)."""

from __future__ import annotations

import sys

from pydantic import ValidationError
from pydantic_settings import SettingsError

from node.errors import NightshiftError


def main() -> int:
    from node.config import WorkerSettings
    from node.runner import run_worker

    try:
        return run_worker(WorkerSettings())
    except (ValidationError, SettingsError) as exc:
        print(f"invalid configuration: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 2
    except NightshiftError as exc:
        print(f"worker failed: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
