"""The command-line entry of a node process: settings from the environment, errors in one line."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError
from pydantic_settings import SettingsError

from node.errors import NightshiftError


def entrypoint(settings_factory: Callable[[], Any], run: Callable[[Any], int], label: str) -> int:
    """`python -m node` / `python -m verifier`: a bad setting or a failed start exits with a
    one-line reason (2 for configuration, 1 otherwise), not a traceback."""
    try:
        return run(settings_factory())
    except (ValidationError, SettingsError) as exc:
        print(f"invalid configuration: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 2
    except NightshiftError as exc:
        print(f"{label} failed: {exc}", file=sys.stderr)
        return 1
