"""The bundled model plug-ins. Each module registers one plug-in with `@register`."""

from node.inference.models import digits, minilm

__all__ = ["digits", "minilm"]
