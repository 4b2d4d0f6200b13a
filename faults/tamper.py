"""Wrong answers for a faulty worker: plausible wrong outputs at a rate, or random ones."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from node.inference.encoding import decode_output, encode_output
from node.inference.engine import InferenceEngine
from node.inference.generation import MAGIC as GENERATION_MAGIC
from node.inference.generation import Generation


class WorkerFaults(BaseModel):
    """A faulty worker's faults (`NIGHTSHIFT_FAULTS__*`). All off by default.

    - `wrong_rate`: fraction of jobs answered with a plausible wrong output.
    - `random_outputs`: answer every job with random values of the right shape.
    - `withhold`: commit hashes but never serve the outputs over HTTP.
    - `silent_after_take`: take batches on and then never compute or commit them.
    """

    wrong_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    random_outputs: bool = False
    withhold: bool = False
    silent_after_take: bool = False
    seed: int = 0


class FaultInjector:
    def __init__(self, faults: WorkerFaults):
        self.faults = faults
        self._rng = random.Random(faults.seed)
        self._np = np.random.default_rng(faults.seed)

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


class TamperingEngine:
    """The worker's own inference engine, with every run's outputs tampered with: the worker
    hashes, commits and serves what this returns, as a cheater's would."""

    def __init__(self, engine: InferenceEngine, injector: FaultInjector):
        self._engine, self._injector = engine, injector

    def run(
        self, model_id: bytes, inputs: Sequence[bytes], progress: Callable[[int, str], None] | None = None
    ) -> list[bytes]:
        return self._injector.tamper(self._engine.run(model_id, inputs, progress))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)
