"""Verifier errors."""

from node.errors import NightshiftError


class VerifierError(NightshiftError):
    """The verifier cannot do its work."""


class PolicyMismatchError(VerifierError):
    """The local verification policy is not the one the registry holds for the model."""
