"""Verification policies: how a verifier compares its re-execution with a worker's output.

- `ExactPolicy`: the canonical output bytes must be identical (classifier labels).
- `TolerantPolicy`: same shape, every element within `max_abs`, and cosine similarity at least
  `min_cosine` (embeddings, whose last bits vary with thread count and batch composition).

A policy's parameters hash (keccak256 of their canonical JSON) to the `toleranceHash` the model
registry stores, so every verifier applies the same bounds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np
from eth_utils import keccak

from node.inference.encoding import decode_output
from node.inference.errors import OutputDecodeError

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


def cosine_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two flattened arrays (1.0 for two zero arrays)."""
    a, b = a.ravel(), b.ravel()
    norm = float(np.linalg.norm(a) * np.linalg.norm(b))
    if norm == 0.0:
        return 1.0 if not a.any() and not b.any() else 0.0
    return float(np.dot(a, b) / norm)
