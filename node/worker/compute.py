"""The worker's forward passes, in a background thread.

The chain work of one round (events, take, commit, finalize) overlaps the inference of the next:
the daemon hands pending batches to `start` and picks the result commitments up with `collect`.
Outputs are stored content-addressed before their hashes are handed back, so a restart finds
them. A model that streams publishes each job's text as it grows (`TokenStreams`), which the
worker's API serves to the requester of a batch already taken on chain. A reorg (`invalidate`)
throws away a computation started before it: its inputs may no longer be those of the batches
it was for.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from eth_utils import keccak

from node.chain.protocol import job_id, result_commitment
from node.inference.engine import InferenceEngine
from node.metrics import Metrics
from node.server.streams import TokenStreams
from node.store import Store

Pending = list[tuple[int, str, dict[str, Any]]]  # (batch id, model id in hex, stored batch data)
Commitments = dict[int, list[bytes]]  # Batch id -> its jobs' result commitments.


class ComputePipeline:
    """One forward-pass computation at a time, off the daemon's thread."""

    def __init__(
        self,
        engine: InferenceEngine,
        store: Store,
        address: str,
        metrics: Metrics,
        done: Callable[[], None],
        streams: TokenStreams,
    ):
        self._engine, self._store, self._address = engine, store, address
        self._streams = streams
        self._metrics, self._done = metrics, done
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="compute")
        self._running: tuple[Future[Commitments | None], set[int]] | None = None
        self._generation = 0  # Bumped by `invalidate`: a computation of an older one is dropped.

    @property
    def busy(self) -> bool:
        return self._running is not None

    @property
    def batches(self) -> set[int]:
        """The batches being computed now."""
        return set(self._running[1]) if self._running else set()

    def start(self, pending: Pending) -> None:
        future = self._pool.submit(self._compute, pending, self._generation)
        future.add_done_callback(lambda _: self._done())
        self._running = (future, {b for b, _, _ in pending})

    def collect(self) -> Commitments | None:
        """The commitments of a finished computation (empty if a reorg voided it), or None if
        none finished; re-raises its failure."""
        if self._running is None or not self._running[0].done():
            return None
        future, _ = self._running
        self._running = None
        return future.result() or {}

    def invalidate(self) -> None:
        self._generation += 1

    def shutdown(self) -> None:
        """Lets a forward pass in flight finish; its outputs are stored for a restart."""
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _compute(self, batches: Pending, generation: int) -> Commitments | None:
        """Runs pending batches, pooling the jobs of each model into shared forward passes;
        stores the outputs and returns each batch's result commitments. None if a reorg came
        meanwhile (nothing of it is stored)."""
        by_model: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        for batch_id, model_hex, data in batches:
            by_model.setdefault(model_hex, []).append((batch_id, data))
        hashes: Commitments = {}
        for model_hex, group in by_model.items():
            model_id = bytes.fromhex(model_hex[2:])
            plugin = self._engine.plugin(model_id)
            name = plugin.name
            inputs = [bytes.fromhex(x) for _, data in group for x in data["inputs"]]
            jobs = [job_id(batch_id, i) for batch_id, data in group for i in range(data["size"])]
            started = time.perf_counter()
            progress = (lambda i, text, jobs=jobs: self._streams.update(jobs[i], text)) if plugin.streams else None
            computed = self._engine.run(model_id, inputs, progress)
            if plugin.streams:  # What a follower gets last: the text as committed.
                for job, out in zip(jobs, computed, strict=True):
                    self._streams.close(job, *plugin.final_text(out))
            outputs = iter(computed)
            self._metrics.inference_seconds.labels(name).observe(time.perf_counter() - started)
            self._metrics.jobs.labels(name).inc(len(inputs))
            stored = []
            for batch_id, data in group:
                batch_outputs = [next(outputs) for _ in range(data["size"])]
                hashes[batch_id] = [
                    result_commitment(self._address, job_id(batch_id, i), out) for i, out in enumerate(batch_outputs)
                ]
                stored += [(job_id(batch_id, i), keccak(out), out) for i, out in enumerate(batch_outputs)]
            if generation != self._generation:
                return None
            self._store.save_outputs(stored)
        return hashes
