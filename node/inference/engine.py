"""The inference engine: fixed execution settings, model identity checks, batched runs."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import torch

from node.inference.base import ModelPlugin, resolve_plugin
from node.inference.errors import InferenceError, ModelIdentityError, OutputDecodeError
from node.inference.policy import Comparison

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExecutionSettings:
    """Fixed for reproducibility: eval mode and inference mode always, float32, these threads.

    `threads` forward passes run side by side, each on one intra-op thread (data parallelism),
    rather than one pass split across `threads` intra-op threads: independent passes never wait
    on each other at an operator's barrier, so they keep their speed when other processes (a
    verifier, the chain client) take a core for a moment. On 2 cores this ran 13% faster idle and
    22% faster beside a process using 30% of a core (bench/results, `raw ... data-parallel`)."""

    threads: int = 1
    deterministic: bool = True


def configure_torch(settings: ExecutionSettings) -> None:
    """Applies the execution settings process-wide: one intra-op thread per forward pass."""
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float32)
    if settings.deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)


def cheapest_passes(lengths: Sequence[int], most: int, overhead: int) -> list[tuple[int, int]]:
    """Cuts lengths sorted in ascending order into consecutive passes of at most `most` inputs,
    at the least estimated cost: `overhead` per pass plus, for each pass, its inputs padded to
    its longest (dynamic programming over where the last pass starts; `most` steps per input).
    Returns each pass's (start, end) in order."""
    count = len(lengths)
    cost = [0] * (count + 1)
    start = [0] * (count + 1)
    for end in range(1, count + 1):
        longest = lengths[end - 1]  # Sorted: a pass's last input is its longest.
        cost[end], start[end] = min(
            (cost[begin] + overhead + longest * (end - begin), begin) for begin in range(max(0, end - most), end)
        )
    bounds = []
    end = count
    while end:
        bounds.append((start[end], end))
        end = start[end]
    return bounds[::-1]


class InferenceEngine:
    """Serves a set of model plug-ins and runs batches of inputs through them."""

    def __init__(self, settings: ExecutionSettings | None = None):
        self.settings = settings or ExecutionSettings()
        self._by_id: dict[bytes, ModelPlugin] = {}
        self._by_name: dict[str, ModelPlugin] = {}
        threads = self.settings.threads
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="forward") if threads > 1 else None

    def load(self, names: Sequence[str], expected_ids: dict[str, bytes] | None = None) -> None:
        """Loads plug-ins by name (or a model folder's path). Refuses a model whose local weights
        hash to another id than `expected_ids[name]` (the id the registry holds)."""
        configure_torch(self.settings)
        for name in names:
            started = time.perf_counter()
            plugin = resolve_plugin(name)()
            plugin.load()
            expected = (expected_ids or {}).get(plugin.name)
            if expected is not None and expected != plugin.model_id:
                raise ModelIdentityError(
                    f"local weights of {name} hash to 0x{plugin.model_id.hex()}, "
                    f"but the registry says 0x{expected.hex()}: refusing to serve it"
                )
            self._by_id[plugin.model_id] = plugin
            self._by_name[plugin.name] = plugin
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

    def run(
        self, model_id: bytes, inputs: Sequence[bytes], progress: Callable[[int, str], None] | None = None
    ) -> list[bytes]:
        """Canonical output bytes for each input, in order, computed in batches of at most the
        model's `max_batch`, spread over the engine's threads. Inputs are grouped by length
        first, so that a batch pads its sequences to a similar length: 40-50% faster for
        sentences of mixed lengths, and the outputs move only within the padding noise the
        tolerant policy was calibrated for. The longest batches run first. A plug-in that
        `streams` calls `progress(i, text)` as input i's text grows."""
        plugin = self.plugin(model_id)
        decoded = [plugin.decode_input(data) for data in inputs]
        lengths = [plugin.input_length(item) for item in decoded]
        order = sorted(range(len(decoded)), key=lambda i: lengths[i])
        streams = self.settings.threads
        size = max(1, min(plugin.max_batch, -(-len(order) // streams)))
        if plugin.pass_overhead > 0:
            bounds = cheapest_passes([lengths[i] for i in order], size, plugin.pass_overhead)
        else:
            bounds = [(start, min(start + size, len(order))) for start in range(0, len(order), size)]
        # Longest first: the short passes then fill in at the end, so no thread is left with one
        # long pass while the others idle (longest-processing-time-first scheduling).
        chunks = [order[start:end] for start, end in bounds][::-1]

        def forward(chunk: list[int]) -> list[bytes]:
            items = [decoded[i] for i in chunk]
            with torch.inference_mode():  # Thread-local: entered in the thread that runs it.
                if progress is not None and plugin.streams:
                    out = plugin.generate(items, lambda row, text: progress(chunk[row], text))
                else:
                    out = plugin.forward(items)
                return [plugin.encode(a) for a in out]

        results = self._pool.map(forward, chunks) if self._pool and len(chunks) > 1 else map(forward, chunks)
        outputs: list[bytes] = [b""] * len(decoded)
        for chunk, encoded in zip(chunks, results, strict=True):
            for i, out in zip(chunk, encoded, strict=True):
                outputs[i] = out
        return outputs

    def verify(
        self, model_id: bytes, inputs: Sequence[bytes], claimed: Sequence[bytes]
    ) -> list[tuple[Comparison, bytes]]:
        """Each claimed output judged against its input, with the output this node stands behind:
        re-run and compared under the model's policy, or checked by a plug-in that `checks_claims`."""
        plugin = self.plugin(model_id)
        if not plugin.checks_claims:
            mine = self.run(model_id, inputs)
            return [(_compare(plugin, m, c), m) for m, c in zip(mine, claimed, strict=True)]
        decoded = [plugin.decode_input(data) for data in inputs]
        with torch.inference_mode():
            return plugin.check(decoded, claimed)


def _compare(plugin: ModelPlugin, mine: bytes, claimed: bytes) -> Comparison:
    try:
        return plugin.policy.compare(mine, claimed)
    except (OutputDecodeError, ValueError) as exc:  # Bytes no output decodes to: the worker's fault.
        return Comparison(False, f"undecodable output: {exc}")
