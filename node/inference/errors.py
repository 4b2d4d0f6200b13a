"""Inference errors."""

from node.errors import NightshiftError


class InferenceError(NightshiftError):
    """Inference could not run."""


class ModelIdentityError(InferenceError):
    """The local weights do not hash to the model id the node was asked to serve."""


class InputDecodeError(InferenceError):
    """A job's input bytes are not valid for its model."""


class OutputDecodeError(InferenceError):
    """Bytes are not a valid canonical output encoding."""
