"""The model plug-in interface. Adding a model is one file in `node/inference/models/`.

A plug-in loads its weights, decodes a job's input bytes, runs a batched forward pass, and
returns one output per input, which it encodes canonically (`encode`; an array by default).
Every input has a defined output (invalid inputs map to a documented sentinel), so every job can
be completed and verified. A verifier re-runs `forward` and compares under the plug-in's policy,
unless the plug-in checks claimed outputs itself (`checks_claims`: a generation is checked in
one teacher-forced pass, not generated again).

Models load by name (a bundled plug-in) or by the path of a local Hugging Face folder holding a
causal language model, which is served under the folder's name (`resolve_plugin`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import torch

from node.inference.encoding import decode_output, encode_output
from node.inference.errors import InferenceError
from node.inference.identity import model_id
from node.inference.policy import Comparison, VerificationPolicy

_PLUGINS: dict[str, type[ModelPlugin]] = {}


def register(cls: type[ModelPlugin]) -> type[ModelPlugin]:
    """Class decorator: makes a plug-in available by its `name`."""
    _PLUGINS[cls.name] = cls
    return cls


def plugin_classes() -> dict[str, type[ModelPlugin]]:
    """Every registered plug-in, by name (imports `node.inference.models` to register them)."""
    import node.inference.models  # noqa: F401  (registers the bundled plug-ins)

    return dict(_PLUGINS)


def resolve_plugin(name: str) -> type[ModelPlugin]:
    """The plug-in for a model name, or for the path of a local Hugging Face causal LM folder."""
    available = plugin_classes()
    if name in available:
        return available[name]
    if "/" in name:
        from node.inference.models.causal_lm import folder_plugin

        return folder_plugin(name)
    raise InferenceError(f"unknown model {name!r}; available: {', '.join(sorted(available))}, or a model folder's path")


def served_name(model: str) -> str:
    """The name a model is registered under: a plug-in's name, or a model folder's name."""
    return resolve_plugin(model).name


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
    # Whether `check` judges a claimed output (instead of re-running `forward` and comparing).
    checks_claims: ClassVar[bool] = False
    # Whether `generate(inputs, progress)` reports each output's text as it grows (a worker
    # streams it once the job is taken on chain).
    streams: ClassVar[bool] = False

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
    def forward(self, inputs: Sequence[Any]) -> list[Any]:
        """One output per input, computed as one batch under `torch.inference_mode()`.
        The engine may call it from several threads at once, on different inputs."""

    def generate(self, inputs: Sequence[Any], progress: Callable[[int, str], None]) -> list[Any]:
        """For a plug-in that `streams`: `forward`, calling `progress(i, text)` as output i grows."""
        raise NotImplementedError(f"{self.name} does not stream")

    @classmethod
    def final_text(cls, data: bytes) -> tuple[str, str]:
        """For a plug-in that `streams`: an encoded output's text and finish reason."""
        raise NotImplementedError(f"{cls.name} does not stream")

    def encode(self, output: Any) -> bytes:
        """The canonical bytes of one of `forward`'s outputs (an array by default)."""
        return encode_output(output)

    def check(self, inputs: Sequence[Any], claimed: Sequence[bytes]) -> list[tuple[Comparison, bytes]]:
        """For a plug-in that `checks_claims`: each claimed output judged against its decoded
        input, with the output this node would stand behind (hashed into its verdict)."""
        raise NotImplementedError(f"{self.name} re-runs and compares; it does not check claims")

    @classmethod
    def min_job_price(cls, data: bytes) -> int:
        """The least price a worker takes a job with this input for (the model's minimum price;
        a generation's grows with its `max_tokens`)."""
        return cls.min_price

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
