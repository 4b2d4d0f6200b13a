"""Fault injection for the worker (tests and the adversary simulator). Off by default.

Documented in `WorkerFaults`: wrong outputs at a rate, random outputs, withholding outputs, and
going silent after taking a batch on.
"""

from __future__ import annotations

import dataclasses
import random

import numpy as np

from node.config import WorkerFaults
from node.inference.encoding import decode_output, encode_output
from node.inference.generation import MAGIC as GENERATION_MAGIC
from node.inference.generation import Generation


class FaultInjector:
    def __init__(self, faults: WorkerFaults):
        self.faults = faults
        self._rng = random.Random(faults.seed)
        self._np = np.random.default_rng(faults.seed)

    @property
    def active(self) -> bool:
        f = self.faults
        return bool(f.wrong_rate or f.random_outputs or f.withhold or f.silent_after_take)

    def tamper(self, outputs: list[bytes]) -> list[bytes]:
        """Applies `random_outputs` or `wrong_rate` to honest outputs."""
        if self.faults.random_outputs:
            return [self._random_like(o) for o in outputs]
        return [self._wrong(o) if self._rng.random() < self.faults.wrong_rate else o for o in outputs]

    def _wrong(self, output: bytes) -> bytes:
        """A plausible wrong answer: a nudged embedding, the next label, or a generation's
        tokens in another order."""
        if output.startswith(GENERATION_MAGIC):
            g = Generation.decode(output)
            rotated = (*g.tokens[1:], g.tokens[0] + 1) if g.tokens else ()
            return dataclasses.replace(g, tokens=rotated).encode()
        array = decode_output(output)
        if array.dtype == np.int64:
            return encode_output((array + 1) % 10)
        nudged = array + self._np.normal(0.0, 0.05, array.shape).astype(np.float32)
        return encode_output((nudged / np.linalg.norm(nudged)).astype(np.float32))

    def _random_like(self, output: bytes) -> bytes:
        if output.startswith(GENERATION_MAGIC):
            g = Generation.decode(output)
            tokens = tuple(int(t) for t in self._np.integers(0, 256, len(g.tokens)))
            return dataclasses.replace(g, tokens=tokens).encode()
        array = decode_output(output)
        if array.dtype == np.int64:
            return encode_output(self._np.integers(0, 10, array.shape).astype(np.int64))
        noise = self._np.standard_normal(array.shape).astype(np.float32)
        return encode_output((noise / np.linalg.norm(noise)).astype(np.float32))
