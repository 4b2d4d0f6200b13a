"""The inference engine: fixed execution settings, model identity checks, batched runs."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from node.inference.base import ModelPlugin, plugin_classes
from node.inference.encoding import encode_output
from node.inference.errors import InferenceError, ModelIdentityError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExecutionSettings:
    """Fixed for reproducibility: eval mode and inference mode always, float32, these threads."""

    threads: int = 1
    deterministic: bool = True


def configure_torch(settings: ExecutionSettings) -> None:
    """Applies the execution settings process-wide."""
    torch.set_num_threads(settings.threads)
    torch.set_default_dtype(torch.float32)
    if settings.deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)


class InferenceEngine:
    """Serves a set of model plug-ins and runs batches of inputs through them."""

    def __init__(self, settings: ExecutionSettings | None = None):
        self.settings = settings or ExecutionSettings()
        self._by_id: dict[bytes, ModelPlugin] = {}
        self._by_name: dict[str, ModelPlugin] = {}

    def load(self, names: Sequence[str], expected_ids: dict[str, bytes] | None = None) -> None:
        """Loads plug-ins by name. Refuses a model whose local weights hash to another id than
        `expected_ids[name]` (the id the registry holds)."""
        configure_torch(self.settings)
        available = plugin_classes()
        for name in names:
            if name not in available:
                raise InferenceError(f"unknown model {name!r}; available: {', '.join(sorted(available))}")
            started = time.perf_counter()
            plugin = available[name]()
            plugin.load()
            expected = (expected_ids or {}).get(name)
            if expected is not None and expected != plugin.model_id:
                raise ModelIdentityError(
                    f"local weights of {name} hash to 0x{plugin.model_id.hex()}, "
                    f"but the registry says 0x{expected.hex()}: refusing to serve it"
                )
            self._by_id[plugin.model_id] = plugin
            self._by_name[name] = plugin
            log.info(
                "model loaded",
                extra={
                    "model": name,
                    "model_id": "0x" + plugin.model_id.hex()[:16],
                    "seconds": round(time.perf_counter() - started, 2),
                },
            )

    def serves(self, model_id: bytes) -> bool:
        return model_id in self._by_id

    def plugin(self, model_id: bytes) -> ModelPlugin:
        try:
            return self._by_id[model_id]
        except KeyError:
            raise InferenceError(f"model 0x{model_id.hex()} is not loaded") from None

    def plugin_by_name(self, name: str) -> ModelPlugin:
        return self._by_name[name]

    def plugins(self) -> list[ModelPlugin]:
        return list(self._by_id.values())

    def run(self, model_id: bytes, inputs: Sequence[bytes]) -> list[bytes]:
        """Canonical output bytes for each input, in order, computed in batches of at most the
        model's `max_batch`. Inputs are grouped by length first, so that a batch pads its
        sequences to a similar length: 40-50% faster for sentences of mixed lengths, and the
        outputs move only within the padding noise the tolerant policy was calibrated for."""
        plugin = self.plugin(model_id)
        decoded = [plugin.decode_input(data) for data in inputs]
        order = sorted(range(len(decoded)), key=lambda i: plugin.input_length(decoded[i]))
        outputs: list[bytes] = [b""] * len(decoded)
        with torch.inference_mode():
            for start in range(0, len(order), plugin.max_batch):
                chunk = order[start : start + plugin.max_batch]
                for i, array in zip(chunk, plugin.forward([decoded[i] for i in chunk]), strict=True):
                    outputs[i] = encode_output(array)
        return outputs
