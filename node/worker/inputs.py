"""A worker's URI inputs, fetched off the event path.

A batch whose inputs name URIs waits in the local status `fetching` while a small pool fetches
them, each bounded (a deadline, the protocol's input cap, public addresses only unless allowed)
and checked against its hash; then it opens, or it is skipped (`unfetchable`) if any input
cannot be had. A slow or hostile host therefore holds up only its own batch: the worker keeps
following the chain and computing other work meanwhile.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from eth_utils import keccak

from node.net import FetchError, FetchLimits, fetch
from node.store import Store, WorkerBatch

log = logging.getLogger(__name__)

FETCH_THREADS = 4  # Batches fetched at once: a few slow hosts do not hold up the others.


def sources_of(inputs: list[dict[str, Any]]) -> list[list[str]]:
    """A `BatchCreated` event's inputs as stored while their batch waits: [data, uri, hash] in hex."""
    return [[bytes(i["data"]).hex(), i["uri"], bytes(i["inputHash"]).hex()] for i in inputs]


class InputFetcher:
    def __init__(
        self,
        store: Store,
        http: httpx.Client,
        limits: FetchLimits,
        ready: Callable[[], None],
        priced: Callable[[int, list[bytes]], bool],
    ):
        self._store, self._http, self._limits, self._ready = store, http, limits, ready
        self._priced = priced  # Whether a batch's price covers these inputs.
        self._pool = ThreadPoolExecutor(FETCH_THREADS, thread_name_prefix="inputs")

    def submit(self, batch_id: int, sources: list[list[str]]) -> None:
        self._pool.submit(self._fetch_batch, batch_id, sources)

    def stop(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _fetch_batch(self, batch_id: int, sources: list[list[str]]) -> None:
        try:
            inputs = []
            for data, uri, digest in sources:
                payload = bytes.fromhex(data) if not uri else self._fetch(uri, bytes.fromhex(digest))
                if payload is None:
                    log.info("skipping batch with an unreachable input", extra={"batch_id": batch_id, "uri": uri})
                    self._store.set_batch_status_if(batch_id, WorkerBatch.FETCHING, WorkerBatch.UNFETCHABLE)
                    return
                inputs.append(payload.hex())
            found = self._store.batch(batch_id)
            if found is None or found[2].get("sources") != sources:
                return  # A reorg replaced the batch meanwhile: its new inputs are fetched anew.
            self._store.update_batch_data(batch_id, inputs=inputs)
            if not self._priced(batch_id, [bytes.fromhex(x) for x in inputs]):
                self._store.set_batch_status_if(batch_id, WorkerBatch.FETCHING, WorkerBatch.UNDERPAID)
                return
            if self._store.set_batch_status_if(batch_id, WorkerBatch.FETCHING, WorkerBatch.OPEN):
                self._ready()
        except Exception:  # One batch's failure is that batch's: the worker goes on.
            log.exception("fetching a batch's inputs failed", extra={"batch_id": batch_id})
            self._store.set_batch_status_if(batch_id, WorkerBatch.FETCHING, WorkerBatch.UNFETCHABLE)

    def _fetch(self, uri: str, expected: bytes) -> bytes | None:
        """A URI input, or None if it cannot be had within the limits or is not the bytes its
        hash names."""
        try:
            payload = fetch(self._http, uri, self._limits)
        except FetchError as exc:
            log.info("input unavailable", extra={"uri": uri, "error": str(exc)})
            return None
        return payload if keccak(payload) == expected else None
