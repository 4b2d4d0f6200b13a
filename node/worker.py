"""The worker daemon: takes batches on for the models it serves, runs them, commits the hashes.

Its state machine lives in the store (`open` -> `taken` -> `committed` -> `finalized`, or
`lost`, `expired`, `cancelled`), so a restart resumes from the listener's cursor and a
reconciliation with the contract. Every transaction is simulated first: one the contract would
refuse (another worker was faster, a batch already committed) is never sent, and is logged at
info as the expected race it is.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import httpx
from eth_utils import keccak
from web3.logs import DISCARD as _DISCARD

from node.chain.errors import NOT_DUE_ERRORS, ContractRevertError
from node.chain.listener import ChainEvent
from node.chain.tx import TransactionFailedError, revert_of
from node.config import WorkerSettings
from node.daemon import NodeDaemon
from node.errors import ConfigError
from node.faults import FaultInjector
from node.inference.encoding import output_hash
from node.metrics import Metrics

log = logging.getLogger(__name__)

WORKER_ROLE = 0
BATCH_STATUS = ["none", "open", "taken", "committed", "committed", "finalized", "expired", "cancelled"]
# Reverts that mean another party already did what we tried: expected races, logged at info.
EXPECTED_RACES = {"JobMarketInvalidBatchStatus", "JobMarketNotWorker"}


def job_id(batch_id: int, index: int) -> int:
    return (batch_id << 16) | index


class Worker(NodeDaemon):
    """A long-running component: `setup`, then `run` until `stop`."""

    name = "worker"
    settings: WorkerSettings

    def __init__(self, settings: WorkerSettings, metrics: Metrics | None = None):
        super().__init__(settings, metrics)
        self.faults = FaultInjector(settings.faults)
        self._last_withdraw = time.monotonic()

    # ------------------------------------------------------------ lifecycle

    def setup(self) -> None:
        s = self.settings
        registered = self.connect()
        unknown = [m for m in s.models if m not in registered]
        if unknown:
            raise ConfigError(f"models not registered on chain: {', '.join(unknown)}")
        self.load_models(s.models, registered)
        if self.faults.active:
            log.warning("fault injection is on", extra=self.settings.faults.model_dump())
        self._reconcile()
        self._sync_url()
        log.info("worker ready", extra={"address": self.address, "url": s.url, "models": ",".join(s.models)})

    def step(self) -> bool:
        """One pass: new events, then take, compute and commit, finalize, withdraw."""
        handled = self.listener.poll(self._on_event)
        cursor = self.store.cursor()
        if cursor is not None:
            self.metrics.cursor.set(cursor)
        worked = self._take_open()
        worked |= self._compute_and_commit()
        worked |= self._finalize_due()
        self._maybe_withdraw()
        return bool(handled or worked)

    # ------------------------------------------------------------ events

    def _on_event(self, event: ChainEvent) -> None:
        self.metrics.events.labels(event.name).inc()
        a = event.args
        if event.name == "BatchCreated":
            if self.engine.serves(bytes(a["modelId"])):
                self._record_batch(event)
            return
        batch_id = a.get("batchId")
        if batch_id is None or self.store.batch(batch_id) is None:
            return
        mine = a.get("worker") == self.address
        if event.name == "BatchTaken":
            self.store.set_batch_status(batch_id, "taken" if mine else "lost", a["deadline"] if mine else None)
        elif event.name == "ResultsCommitted" and mine:
            self.store.set_batch_status(batch_id, "committed", a["challengeDeadline"])
        elif event.name == "BatchFinalized" and mine:
            self.store.set_batch_status(batch_id, "finalized")
        elif event.name == "BatchTimedOut" and mine:
            self.store.set_batch_status(batch_id, "expired")
        elif event.name == "BatchTimedOut" and a["reopened"]:
            self.store.set_batch_status(batch_id, "open")
        elif event.name == "BatchCancelled":
            self.store.set_batch_status(batch_id, "cancelled")

    def _record_batch(self, event: ChainEvent) -> None:
        a = event.args
        inputs = []
        for item in a["inputs"]:
            uri = item["uri"]
            payload = bytes(item["data"]) if not uri else self._fetch_input(uri, bytes(item["inputHash"]))
            if payload is None:
                log.info("skipping batch with an unreachable input", extra={"batch_id": a["batchId"], "uri": uri})
                return
            inputs.append(payload.hex())
        data = {"requester": a["requester"], "price": a["price"], "size": len(inputs), "inputs": inputs}
        self.store.put_batch(a["batchId"], "0x" + bytes(a["modelId"]).hex(), "open", data)

    def _fetch_input(self, uri: str, expected: bytes) -> bytes | None:
        try:
            payload = self.http.get(uri).raise_for_status().content
        except httpx.HTTPError:
            return None
        return payload if keccak(payload) == expected else None

    # ------------------------------------------------------------ work

    def _take_open(self) -> bool:
        if self.store.batches_with_status("taken"):  # Compute and commit what we hold first.
            return False
        ids: list[int] = []
        jobs = 0
        for batch_id, _, data, _ in self.store.batches_with_status("open")[: self.settings.take_max_batches]:
            if ids and jobs + data["size"] > self.settings.take_max_jobs:
                break
            ids.append(batch_id)
            jobs += data["size"]
        if not ids:
            return False
        receipt = self._send("take", self.client.market.functions.takeBatches(ids), ids)
        if receipt is None:
            return True
        for event in self.client.market.events.BatchTaken().process_receipt(receipt, errors=_DISCARD):
            self.store.set_batch_status(event["args"]["batchId"], "taken", event["args"]["deadline"])
        self.metrics.batches.labels("taken").inc(len(ids))
        log.info("batches taken", extra={"batches": ids})
        return True

    def _compute_and_commit(self) -> bool:
        taken = self.store.batches_with_status("taken")
        if not taken or self.settings.faults.silent_after_take:
            return False
        self._compute([(b, m, d) for b, m, d, _ in taken if not self._stored(b, d["size"])])
        ids = [b for b, *_ in taken]
        hashes = [[found[1] for found in self._stored(b, d["size"])] for b, _, d, _ in taken]
        receipt = self._send("commit", self.client.market.functions.commitResults(ids, hashes), ids)
        if receipt is not None:
            for event in self.client.market.events.ResultsCommitted().process_receipt(receipt, errors=_DISCARD):
                self.store.set_batch_status(event["args"]["batchId"], "committed", event["args"]["challengeDeadline"])
            self.metrics.batches.labels("committed").inc(len(ids))
            log.info("results committed", extra={"batches": ids, "jobs": sum(len(h) for h in hashes)})
        return True

    def _stored(self, batch_id: int, size: int) -> list[tuple[bytes, bytes]]:
        """A batch's stored (output, hash) pairs, or [] if any is missing (not yet computed)."""
        found = [self.store.output(job_id(batch_id, i)) for i in range(size)]
        return [f for f in found if f] if all(found) else []

    def _compute(self, batches: list[tuple[int, str, dict[str, Any]]]) -> None:
        """Runs pending batches, pooling the jobs of each model into shared forward passes, and
        stores the outputs content-addressed."""
        by_model: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        for batch_id, model_hex, data in batches:
            by_model.setdefault(model_hex, []).append((batch_id, data))
        for model_hex, group in by_model.items():
            model_id = bytes.fromhex(model_hex[2:])
            name = self.engine.plugin(model_id).name
            inputs = [bytes.fromhex(x) for _, data in group for x in data["inputs"]]
            started = time.perf_counter()
            outputs = self.faults.tamper(self.engine.run(model_id, inputs))
            self.metrics.inference_seconds.labels(name).observe(time.perf_counter() - started)
            self.metrics.jobs.labels(name).inc(len(outputs))
            position = 0
            for batch_id, data in group:
                for i in range(data["size"]):
                    out = outputs[position + i]
                    self.store.save_output(job_id(batch_id, i), output_hash(out), out)
                position += data["size"]

    def _finalize_due(self) -> bool:
        now = time.time()
        due = [
            b
            for b, _, _, deadline in self.store.batches_with_status("committed")
            if now > deadline + self.settings.finalize_margin
        ]
        if not due:
            return False
        receipt = self._send("finalize", self.client.market.functions.finalizeBatches(due), due)
        if receipt is not None:
            for event in self.client.market.events.BatchFinalized().process_receipt(receipt, errors=_DISCARD):
                self.store.set_batch_status(event["args"]["batchId"], "finalized")
            self.metrics.batches.labels("finalized").inc(len(due))
        return receipt is not None

    def _maybe_withdraw(self) -> None:
        interval = self.settings.withdraw_interval
        if interval <= 0 or time.monotonic() - self._last_withdraw < interval:
            return
        self._last_withdraw = time.monotonic()
        if self.client.market.functions.balanceOf(self.address).call() > 0:
            self._send("withdraw", self.client.market.functions.withdraw(), [])

    def _send(self, action: str, fn: Any, batch_ids: list[int]) -> Any:
        """Sends one transaction; on an expected race marks the batch named by the error and
        returns None so the rest is retried on the next pass."""
        try:
            receipt = self.sender.transact(fn)
        except (ContractRevertError, TransactionFailedError) as exc:
            revert = revert_of(exc)
            if revert is None:
                raise
            batch_id = revert.args_by_name.get("batchId") or revert.args_by_name.get("id")
            if revert.name in EXPECTED_RACES and batch_id in batch_ids:
                log.info("expected race", extra={"action": action, "error": str(revert)})
                self.metrics.races.labels(revert.name).inc()
                for other in batch_ids:  # Another worker was faster: see which batches it took.
                    self._refresh(other)
            elif revert.name in NOT_DUE_ERRORS:
                log.info("not due yet", extra={"action": action, "error": str(revert)})
            else:
                raise
            return None
        self.metrics.transactions.labels(action).inc()
        return receipt

    def _refresh(self, batch_id: int) -> None:
        """Sets a batch's local status from the contract's."""
        batch = self.client.market.functions.getBatch(batch_id).call()
        worker, deadline, status = batch[5], batch[6], BATCH_STATUS[batch[8]]
        if status in ("taken", "committed") and worker != self.address:
            status = "lost"
        self.store.set_batch_status(batch_id, status, deadline)

    def _sync_url(self) -> None:
        """Makes the URL registered on chain this node's, so requesters and verifiers find it."""
        staking = self.client.staking.functions
        if staking.getStake(self.address, WORKER_ROLE).call()[0] == 0:
            log.warning("this worker has no stake yet: stake before taking work", extra={"address": self.address})
        elif staking.workerUrl(self.address).call() != self.settings.url:
            self.sender.transact(staking.setWorkerUrl(self.settings.url))
            log.info("registered URL updated", extra={"url": self.settings.url})

    def _reconcile(self) -> None:
        """After a restart: re-read every unfinished batch from the contract."""
        for status in ("open", "taken", "committed"):
            for batch_id, *_ in self.store.batches_with_status(status):
                self._refresh(batch_id)
