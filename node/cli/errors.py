"""CLI errors: each kind has its own exit code, and is reported as one line without a traceback."""

from __future__ import annotations

from node.errors import NightshiftError

# Exit codes. 2 is click's usage error.
INTERNAL = 1
WALLET = 3
NETWORK = 4
REJECTED = 5
INPUT = 6
VERIFICATION = 7
TIMEOUT = 8


class CliError(NightshiftError):
    """A user-facing failure with its exit code."""

    exit_code = INTERNAL

    def __init__(self, message: str, exit_code: int | None = None):
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class WalletError(CliError):
    exit_code = WALLET


class InputError(CliError):
    exit_code = INPUT
