"""`python -m faults.worker`: the production worker with `NIGHTSHIFT_FAULTS__*` faults injected.

Each fault wraps one component of the real worker from outside: wrong or random outputs come
from a tampering inference engine (committed and served as a cheater's would be), withholding
from a view of the store through which the result API finds nothing, and silence after taking
batches on from a worker that never starts their computation.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, cast

from pydantic import Field

from faults.tamper import FaultInjector, TamperingEngine, WorkerFaults
from node.config import WorkerSettings
from node.inference.engine import InferenceEngine
from node.launch import entrypoint
from node.logs import configure_logging
from node.metrics import Metrics
from node.store import Store
from node.worker.daemon import Worker
from node.worker.run import supervise

log = logging.getLogger(__name__)


class FaultyWorkerSettings(WorkerSettings):
    faults: WorkerFaults = Field(default_factory=WorkerFaults)


class FaultyWorker(Worker):
    settings: FaultyWorkerSettings

    def load_models(self, names: list[str], registered: dict[str, dict[str, Any]]) -> None:
        super().load_models(names, registered)
        f = self.settings.faults
        if f.wrong_rate or f.random_outputs:
            self.engine = cast(InferenceEngine, TamperingEngine(self.engine, FaultInjector(f)))
        log.warning("fault injection is on", extra=f.model_dump())

    def _compute_open(self) -> bool:
        return False if self.settings.faults.silent_after_take else super()._compute_open()

    def _start_compute(self) -> bool:
        return False if self.settings.faults.silent_after_take else super()._start_compute()


class WithholdingStore:
    """The worker's store as its result API sees it when outputs are withheld: no batch and no
    output, so every result and stream request is answered 404."""

    def __init__(self, store: Store):
        self._store = store

    def batch(self, batch_id: int) -> None:
        return None

    def output(self, job_id: int) -> None:
        return None

    def outputs(self, job_ids: list[int]) -> dict[int, tuple[bytes, bytes]]:
        return {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def run(settings: FaultyWorkerSettings) -> int:
    configure_logging(settings.log_level, settings.log_json)
    worker = FaultyWorker(settings, Metrics())
    if settings.faults.withhold:
        return supervise(worker, lambda: cast(Store, WithholdingStore(worker.store)))
    return supervise(worker, lambda: worker.store)


if __name__ == "__main__":
    sys.exit(entrypoint(FaultyWorkerSettings, run, "worker"))
