"""The shape shared by the worker and the verifier: `step()` until stopped."""

from __future__ import annotations

import http.client
import logging
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection
from typing import Any

import httpx
import requests

from node.chain.client import ChainClient
from node.chain.errors import ContractRevertError, RpcUnavailableError
from node.chain.listener import ChainEvent, EventListener
from node.chain.tx import TransactionFailedError, revert_of
from node.config import NodeSettings
from node.inference.base import served_name
from node.inference.engine import ExecutionSettings, InferenceEngine
from node.metrics import Metrics
from node.store import Store

log = logging.getLogger(__name__)

# What a chain RPC outage raises from a pass: the sender's retries running out, and a socket
# refused, reset or timed out on a plain read (a stopped node accepts connections and never answers).
CHAIN_OUTAGE = (RpcUnavailableError, OSError, http.client.HTTPException, requests.RequestException)
MAX_BACKOFF_S = 10.0


class PollingDaemon(ABC):
    """A supervised component that runs `step()` in a loop, sleeping when a step found no work."""

    name: str
    poll_interval: float

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._wake = threading.Event()  # Set to end the current sleep early (work became ready).

    @abstractmethod
    def setup(self) -> None: ...

    @abstractmethod
    def step(self) -> bool:
        """One pass over new events and due work; True if anything happened."""

    def run(self) -> None:
        outage_since: float | None = None
        backoff = 0.0
        while not self._stop.is_set():
            try:
                worked = self.step()
            except CHAIN_OUTAGE as exc:
                # The chain's RPC is down or stalled: wait, longer each time, and log it once. A
                # pass cut short loses nothing: events are handled from the stored cursor, and a
                # transaction is re-sent as the same bytes under the same nonce.
                if outage_since is None:
                    outage_since = time.monotonic()
                    log.warning("chain RPC unreachable; backing off", extra={"error": str(exc)})
                backoff = min(MAX_BACKOFF_S, max(self.poll_interval, 2 * backoff))
                self._wake.wait(backoff)
                self._wake.clear()
                continue
            if outage_since is not None:
                log.info("chain RPC back", extra={"seconds": round(time.monotonic() - outage_since, 1)})
                outage_since, backoff = None, 0.0
            if not worked:
                self._wake.wait(self.poll_interval)
                self._wake.clear()

    def wake(self) -> None:
        """Ends the current sleep: the next step runs now."""
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()


class NodeDaemon(PollingDaemon):
    """A polling daemon connected to the chain with a key, a store, models and a listener."""

    events: tuple[str, ...]  # The market events its listener delivers; the rest are not fetched.

    def __init__(self, settings: NodeSettings, metrics: Metrics | None = None):
        super().__init__()
        self.settings = settings
        self.poll_interval = settings.poll_interval
        self.metrics = metrics or Metrics()
        # One connection pool for every HTTP call (inputs, outputs): a client per call would
        # build a TLS context each time, which cost the verifier a third of its CPU.
        self.http = httpx.Client(timeout=10.0)

    def connect(self) -> dict[str, dict[str, Any]]:
        """Opens the chain client, the sender and the store; returns the registered models."""
        s = self.settings
        self.client = ChainClient(s.rpc_url, s.deployments, s.private_key, s.rpc_timeout)
        self.sender = self.client.require_sender()
        self.address = self.client.address
        self.store = Store(s.data_dir)
        contracts = [self.client.market, self.client.game, self.client.staking]
        self.listener = EventListener(
            self.client, self.store, contracts, s.confirmations, self.events, on_reorg=self.reconcile_reorg
        )
        return self.client.registered_models()

    def poll_events(self, handler: Callable[[ChainEvent], None]) -> int:
        """Hands new confirmed events to `handler`; returns how many."""
        handled = self.listener.poll(handler)
        cursor = self.store.cursor()
        if cursor is not None:
            self.metrics.cursor.set(cursor)
        return handled

    @abstractmethod
    def reconcile_reorg(self, fork: int, touched: set[int] | None) -> None:
        """The chain replaced the blocks after `fork`, some of them already handled: bring the
        batches they touched (None: every batch) back in line with the contract. The listener
        then delivers the new blocks' events."""

    def load_models(self, names: list[str], registered: dict[str, dict[str, Any]]) -> None:
        """Loads the models, refusing any whose weights hash to another id than the registry's."""
        self.engine = InferenceEngine(ExecutionSettings(threads=self.settings.threads))
        self.engine.load(names, expected_ids={served_name(m): registered[served_name(m)]["model_id"] for m in names})

    def expected_revert(
        self,
        action: str,
        exc: ContractRevertError | TransactionFailedError,
        races: Collection[str],
        not_due: Collection[str],
    ) -> ContractRevertError | None:
        """The decoded revert of a refused or reverted transaction if it is one the daemon
        expects: a race (another party already did the work; counted) or work not due yet, each
        logged at info. None for anything else, which the caller re-raises."""
        revert = revert_of(exc)
        if revert is None:
            return None
        if revert.name in not_due:
            log.info("not due yet; trying again later", extra={"action": action, "error": str(revert)})
        elif revert.name in races:
            log.info("expected race", extra={"action": action, "error": str(revert)})
            self.metrics.races.labels(revert.name).inc()
        else:
            return None
        return revert
