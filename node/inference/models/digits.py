"""A handwritten-digit classifier: an MLP trained on scikit-learn's bundled 8x8 digits.

Input: 64 bytes, the pixel intensities 0..16 in row order (as `sklearn.datasets.load_digits`).
Output: int64 [1], the predicted digit, or -1 when the input is not 64 bytes in 0..16.
Verified exactly. The weights (`digits_mlp.safetensors`) are trained by
`scripts/train_digits.py` and committed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file
from torch import nn

from node.inference.base import ModelPlugin, register
from node.inference.encoding import decode_output
from node.inference.errors import InferenceError
from node.inference.policy import ExactPolicy

WEIGHTS = Path(__file__).with_name("digits_mlp.safetensors")
PIXELS = 64
INVALID = -1


def build_mlp() -> nn.Sequential:
    """The architecture: 64 -> 64 -> 10 with a ReLU."""
    return nn.Sequential(nn.Linear(PIXELS, 64), nn.ReLU(), nn.Linear(64, 10))


def encode_pixels(pixels: Sequence[int]) -> bytes:
    """A job input from 64 intensities in 0..16."""
    if len(pixels) != PIXELS or any(not 0 <= int(p) <= 16 for p in pixels):
        raise ValueError("a digit is 64 intensities in 0..16")
    return bytes(int(p) for p in pixels)


@register
class DigitsMLP(ModelPlugin):
    name = "digits-mlp"
    policy = ExactPolicy()
    min_price = 1_000  # 0.001 credit
    max_batch = 512

    @classmethod
    def input_from_json(cls, value: object) -> bytes:
        """64 intensities, as a list or a comma-separated string."""
        if isinstance(value, str):
            value = [int(v) for v in value.replace(" ", "").split(",") if v]
        if not isinstance(value, list):
            raise ValueError("a digit is a list of 64 intensities in 0..16")
        return encode_pixels(value)

    @classmethod
    def output_to_json(cls, data: bytes) -> object:
        """The predicted digit (-1 for an invalid input)."""
        return int(decode_output(data)[0])

    def load(self) -> None:
        if not WEIGHTS.exists():
            raise InferenceError(f"digit weights not found at {WEIGHTS}: run scripts/train_digits.py")
        self._model = build_mlp()
        self._model.load_state_dict(load_file(str(WEIGHTS)))
        self._model.eval()

    def weights(self) -> Mapping[str, torch.Tensor]:
        return self._model.state_dict()

    def decode_input(self, data: bytes) -> np.ndarray | None:
        if len(data) != PIXELS or max(data) > 16:
            return None
        return np.frombuffer(data, dtype=np.uint8).astype(np.float32) / 16.0

    def forward(self, inputs: Sequence[np.ndarray | None]) -> list[np.ndarray]:
        valid = [x for x in inputs if x is not None]
        labels = iter(self._model(torch.from_numpy(np.stack(valid))).argmax(dim=1).tolist() if valid else [])
        return [np.array([INVALID if x is None else next(labels)], dtype=np.int64) for x in inputs]
