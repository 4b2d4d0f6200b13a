"""The model plug-in interface. Adding a model is one file in `node/inference/models/`.

A plug-in loads its weights, decodes a job's input bytes, runs a batched forward pass, and
returns one array per input, which the engine encodes canonically. Every input has a defined
output (invalid inputs map to a documented sentinel), so every job can be completed and verified.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import torch

from node.inference.encoding import decode_output
from node.inference.identity import model_id
from node.inference.policy import VerificationPolicy

_PLUGINS: dict[str, type[ModelPlugin]] = {}


def register(cls: type[ModelPlugin]) -> type[ModelPlugin]:
    """Class decorator: makes a plug-in available by its `name`."""
    _PLUGINS[cls.name] = cls
    return cls


def plugin_classes() -> dict[str, type[ModelPlugin]]:
    """Every registered plug-in, by name (imports `node.inference.models` to register them)."""
    import node.inference.models  # noqa: F401  (registers the bundled plug-ins)

    return dict(_PLUGINS)


class ModelPlugin(ABC):
    """One model: its name, verification policy, price and batched forward pass."""

    name: ClassVar[str]
    policy: ClassVar[VerificationPolicy]
    min_price: ClassVar[int]
    # The most inputs in one forward pass: the size that runs fastest on a CPU, where a batch
    # whose activations stay in cache beats a bigger one. The engine splits larger runs.
    max_batch: ClassVar[int] = 64
    # The fixed cost of one forward pass, in units of `input_length`: a pass of n inputs padded to
    # length L costs about `pass_overhead + n * L`. With it, the engine cuts a run sorted by
    # length where the padding a longer pass would add costs more than another pass. 0: passes
    # of `max_batch` (inputs of a fixed size).
    pass_overhead: ClassVar[int] = 0

    def __init__(self) -> None:
        self._model_id: bytes | None = None

    @abstractmethod
    def load(self) -> None:
        """Loads the weights (offline) and puts the model in eval mode."""

    @abstractmethod
    def weights(self) -> Mapping[str, torch.Tensor]:
        """The loaded weights, by name: what the model id is computed from."""

    @abstractmethod
    def decode_input(self, data: bytes) -> Any:
        """A job's input bytes, decoded for `forward`."""

    @abstractmethod
    def forward(self, inputs: Sequence[Any]) -> list[np.ndarray]:
        """One output array per input, computed as one batch under `torch.inference_mode()`.
        The engine may call it from several threads at once, on different inputs."""

    def input_length(self, item: Any) -> int:
        """A decoded input's size, for grouping inputs of similar size into the same forward
        pass (less padding). Default 0: inputs of a fixed size, kept in order."""
        return 0

    @classmethod
    def input_from_json(cls, value: object) -> bytes:
        """A job input from a JSON value (a CLI argument or a JSONL line). Default: text."""
        if isinstance(value, str):
            return value.encode()
        raise ValueError(f"{cls.name} takes text inputs")

    @classmethod
    def output_to_json(cls, data: bytes) -> object:
        """A canonical output as JSON, for people and scripts."""
        return decode_output(data).tolist()

    @property
    def model_id(self) -> bytes:
        """keccak256 of the canonical weight bytes (computed once, after `load`)."""
        if self._model_id is None:
            self._model_id = model_id(self.weights())
        return self._model_id
