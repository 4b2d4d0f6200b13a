"""Verification policies: how a verifier compares its re-execution with a worker's output.

- `ExactPolicy`: the canonical output bytes must be identical (classifier labels).
- `TolerantPolicy`: same shape, every element within `max_abs`, and cosine similarity at least
  `min_cosine` (embeddings, whose last bits vary with thread count and batch composition).
- `SampledTokensPolicy`: every generated token is the seeded sampler's choice from the
  verifier's own logits, and its log-probability within `logprob_abs` (text generation).

A policy's parameters hash (keccak256 of their canonical JSON) to the `toleranceHash` the model
registry stores, so every verifier applies the same bounds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np
import torch
from eth_utils import keccak

from node.inference.encoding import decode_output
from node.inference.errors import OutputDecodeError
from node.inference.generation import Generation, GenerationRequest, StepTolerance, check_steps

ZERO_HASH = b"\x00" * 32


@dataclass(frozen=True)
class Comparison:
    """The outcome of comparing two outputs, with the measured distances."""

    accepted: bool
    reason: str
    max_abs: float = 0.0
    cosine: float = 1.0


class VerificationPolicy(Protocol):
    @property
    def mode(self) -> Literal["exact", "tolerant"]:
        """`exact` or `tolerant`, as registered on chain."""
        ...

    def compare(self, expected: bytes, claimed: bytes) -> Comparison:
        """Compares the verifier's own output with the worker's claimed output."""
        ...

    def tolerance_hash(self) -> bytes:
        """What the registry stores for this policy."""
        ...


@dataclass(frozen=True)
class ExactPolicy:
    mode: Literal["exact", "tolerant"] = "exact"

    def compare(self, expected: bytes, claimed: bytes) -> Comparison:
        if expected == claimed:
            return Comparison(True, "identical")
        return Comparison(False, "outputs differ")

    def tolerance_hash(self) -> bytes:
        return ZERO_HASH


@dataclass(frozen=True)
class TolerantPolicy:
    max_abs: float
    min_cosine: float
    mode: Literal["exact", "tolerant"] = "tolerant"

    def canonical_json(self) -> str:
        return json.dumps(
            {"max_abs": self.max_abs, "min_cosine": self.min_cosine}, sort_keys=True, separators=(",", ":")
        )

    def tolerance_hash(self) -> bytes:
        return keccak(text=self.canonical_json())

    def compare(self, expected: bytes, claimed: bytes) -> Comparison:
        try:
            a = decode_output(expected).astype(np.float64)
            b = decode_output(claimed).astype(np.float64)
        except OutputDecodeError as exc:
            return Comparison(False, f"undecodable output: {exc}")
        if a.shape != b.shape:
            return Comparison(False, f"shape {b.shape} differs from {a.shape}")
        if not np.all(np.isfinite(b)):
            return Comparison(False, "non-finite values")
        max_abs = float(np.max(np.abs(a - b))) if a.size else 0.0
        cosine = cosine_similarity(a, b)
        if max_abs > self.max_abs:
            return Comparison(False, f"max |diff| {max_abs:.3g} > {self.max_abs:.3g}", max_abs, cosine)
        if cosine < self.min_cosine:
            return Comparison(False, f"cosine {cosine:.9f} < {self.min_cosine}", max_abs, cosine)
        return Comparison(True, "within tolerance", max_abs, cosine)


@dataclass(frozen=True)
class SampledTokensPolicy:
    """Generated tokens checked against the verifier's teacher-forced logits (see
    node.inference.generation): each token the seeded sampler's choice within `margin`, each
    log-probability within `logprob_abs`, the top-p nucleus within `top_p_slack`."""

    logprob_abs: float
    margin: float
    top_p_slack: float
    mode: Literal["exact", "tolerant"] = "tolerant"

    def canonical_json(self) -> str:
        fields = {"scheme": "seeded-gumbel-v2", "logprob_abs": self.logprob_abs, "margin": self.margin}
        return json.dumps({**fields, "top_p_slack": self.top_p_slack}, sort_keys=True, separators=(",", ":"))

    def tolerance_hash(self) -> bytes:
        return keccak(text=self.canonical_json())

    @property
    def step_tolerance(self) -> StepTolerance:
        return StepTolerance(self.logprob_abs, self.margin, self.top_p_slack)

    def check_tokens(self, logits: torch.Tensor, request: GenerationRequest, claimed: Generation) -> Comparison:
        """`logits[k]`: the verifier's logits that chose claimed token k."""
        result = check_steps(logits, request, claimed.tokens, claimed.logprobs, self.step_tolerance)
        if result.problem is not None:
            return Comparison(False, result.problem, max_abs=result.deviation)
        return Comparison(True, f"{len(claimed.tokens)} tokens are the sampler's", max_abs=result.deviation)

    def compare(self, expected: bytes, claimed: bytes) -> Comparison:
        """Two generations of one request (a re-run): the same tokens, ending and text, and
        log-probabilities within `logprob_abs`."""
        try:
            a, b = Generation.decode(expected), Generation.decode(claimed)
        except OutputDecodeError as exc:
            return Comparison(False, f"undecodable output: {exc}")
        if (a.tokens, a.finish, a.text) != (b.tokens, b.finish, b.text):
            return Comparison(False, "the generations differ")
        worst = max((abs(x - y) for x, y in zip(a.logprobs, b.logprobs, strict=True)), default=0.0)
        if not worst <= self.logprob_abs:
            return Comparison(False, f"log-probabilities differ by {worst:.3g}", max_abs=worst)
        return Comparison(True, "the same generation", max_abs=worst)


def cosine_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two flattened arrays (1.0 for two zero arrays)."""
    a, b = a.ravel(), b.ravel()
    norm = float(np.linalg.norm(a) * np.linalg.norm(b))
    if norm == 0.0:
        return 1.0 if not a.any() and not b.any() else 0.0
    return float(np.dot(a, b) / norm)
