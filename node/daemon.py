"""The shape shared by the worker and the verifier: `step()` until stopped."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from typing import Any

import httpx

from node.chain.client import ChainClient
from node.chain.listener import EventListener
from node.config import NodeSettings
from node.inference.engine import ExecutionSettings, InferenceEngine
from node.metrics import Metrics
from node.store import Store


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
        while not self._stop.is_set():
            if not self.step():
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
        self.client = ChainClient(s.rpc_url, s.deployments, s.private_key)
        self.sender = self.client.require_sender()
        self.address = self.client.address
        self.store = Store(s.data_dir)
        contracts = [self.client.market, self.client.game]
        self.listener = EventListener(self.client, self.store, contracts, s.confirmations, self.events)
        return self.client.registered_models()

    def load_models(self, names: list[str], registered: dict[str, dict[str, Any]]) -> None:
        """Loads the models, refusing any whose weights hash to another id than the registry's."""
        self.engine = InferenceEngine(ExecutionSettings(threads=self.settings.threads))
        self.engine.load(names, expected_ids={m: registered[m]["model_id"] for m in names})
