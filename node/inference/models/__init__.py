"""The bundled model plug-ins. Each module registers one plug-in with `@register`."""

from node.inference.models import causal_lm, digits, minilm

__all__ = ["causal_lm", "digits", "minilm"]
