"""The worker daemon: takes batches on for the models it serves, runs them, commits the hashes.

Its state machine lives in the store (`open` -> `taken` -> `committed` -> `finalized`, or
`lost`, `expired`, `cancelled`), so a restart resumes from the listener's cursor and a
reconciliation with the contract, and so does a reorg past the confirmations. Forward passes run
in a background thread (`node.worker.compute`). Batches due for finalizing ride on the next
commit (`multicall`) when there is one.

Every transaction is simulated first: one the contract would refuse (another worker was faster,
a batch already committed) is never sent, and is logged at info as the expected race it is.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from node.chain.errors import NOT_DUE_ERRORS, ContractRevertError
from node.chain.listener import ChainEvent
from node.chain.protocol import Role, batch_of
from node.chain.tx import TransactionFailedError, revert_of
from node.config import WorkerSettings
from node.daemon import NodeDaemon
from node.errors import ConfigError
from node.inference.base import served_name
from node.metrics import Metrics
from node.net import FetchLimits
from node.server.streams import TokenStreams
from node.store import WorkerBatch
from node.worker.compute import ComputePipeline
from node.worker.inputs import InputFetcher, sources_of
from node.worker.reconcile import Reconciler

log = logging.getLogger(__name__)

# Reverts that mean another party already did what we tried: expected races, logged at info.
EXPECTED_RACES = {"JobMarketInvalidBatchStatus", "JobMarketNotWorker"}
# Reverts that mean a batch cannot be finalized yet; tried again later.
NOT_YET = NOT_DUE_ERRORS | {"JobMarketAuditsOpen"}
INACTIVE_RETRY_S = 30  # How long a worker found not staked waits before it tries to take work again.
AUDIT_RETRY_S = 5  # How long a batch with audits open waits for another finalize try, if no event comes.


class Worker(NodeDaemon):
    """A long-running component: `setup`, then `run` until `stop`."""

    name = "worker"
    events = (
        "BatchCreated",
        "BatchTaken",
        "ResultsCommitted",
        "BatchFinalized",
        "BatchForfeited",
        "BatchTimedOut",
        "BatchCancelled",
        # An audit of one of its batches ending: the batch can be finalized once the audit's
        # challenge window is over, sooner than a blind retry would find.
        "VerdictSubmitted",
        "DisputeSettled",
        "AuditLapsed",
    )
    settings: WorkerSettings

    def __init__(self, settings: WorkerSettings, metrics: Metrics | None = None):
        super().__init__(settings, metrics)
        self.streams = TokenStreams()  # Generations in progress, for the stream API.
        self._last_withdraw = time.monotonic()
        self._inactive_until = 0.0  # Not an active staker (it left, or was slashed): take nothing till then.
        self._computed: dict[int, list[bytes]] = {}  # Taken batches with stored outputs: their hashes.

    # ------------------------------------------------------------ lifecycle

    def setup(self) -> None:
        s = self.settings
        registered = self.connect()
        unknown = [m for m in s.models if served_name(m) not in registered]
        if unknown:
            raise ConfigError(f"models not registered on chain: {', '.join(unknown)}")
        self.load_models(s.models, registered)
        self.compute = ComputePipeline(self.engine, self.store, self.address, self.metrics, self.wake, self.streams)
        self.params = self.client.view.params()  # Fixed at deployment: read once.
        limits = FetchLimits(s.fetch_timeout, self.params.max_input_bytes, s.allow_private_peers)
        self.reconciler = Reconciler(self.store, self.client.view, self.address)
        self.fetcher = InputFetcher(self.store, self.http, limits, self.wake, self._priced_batch)
        self._reconcile()
        self._sync_url()
        log.info("worker ready", extra={"address": self.address, "url": s.url, "models": ",".join(s.models)})

    def step(self) -> bool:
        """One pass: new events; collect finished outputs and keep the engine busy; commit; take
        more; finalize; withdraw. True if it sent a transaction or started a computation: new
        events alone are acted on in this same pass, so they need no immediate second one (on a
        busy chain, every pass finds some, and the loop would never rest)."""
        self.poll_events(self._on_event)
        worked = self._collect()
        worked |= self._start_compute()
        worked |= self._commit_computed()
        worked |= self._take_open()
        worked |= self._start_compute()
        worked |= self._finalize_due()
        self._maybe_withdraw()
        return worked

    def run(self) -> None:
        try:
            super().run()
        finally:  # Let a forward pass in flight finish; its outputs are stored for a restart.
            self.fetcher.stop()
            self.compute.shutdown()

    # ------------------------------------------------------------ events

    def _on_event(self, event: ChainEvent) -> None:
        self.metrics.events.labels(event.name).inc()
        a = event.args
        if event.name == "BatchCreated":
            if self.engine.serves(bytes(a["modelId"])):
                self._record_batch(event)
            return
        if "jobId" in a:
            self._audit_ended(batch_of(a["jobId"]))
            return
        batch_id = a.get("batchId")
        if batch_id is None or self.store.batch(batch_id) is None:
            return
        mine = a.get("worker") == self.address
        if event.name == "BatchTaken":
            self.store.set_batch_status(
                batch_id, WorkerBatch.TAKEN if mine else WorkerBatch.LOST, a["deadline"] if mine else None
            )
        elif event.name == "ResultsCommitted" and mine:
            self.store.set_batch_status(batch_id, WorkerBatch.COMMITTED, a["challengeDeadline"])
        elif event.name == "ResultsCommitted":  # Another's commit, which took the batch on if it was open.
            self.store.set_batch_status(batch_id, WorkerBatch.LOST)
        elif event.name == "BatchFinalized" and mine:
            self.store.set_batch_status(batch_id, WorkerBatch.FINALIZED)
        elif event.name == "BatchTimedOut" and mine:
            self.store.set_batch_status(batch_id, WorkerBatch.EXPIRED)
        elif event.name == "BatchTimedOut" and a["reopened"]:
            self.store.set_batch_status(batch_id, WorkerBatch.OPEN)
        elif event.name == "BatchCancelled":
            self.store.set_batch_status(batch_id, WorkerBatch.CANCELLED)
        elif event.name == "BatchForfeited" and mine:
            self.store.set_batch_status(batch_id, WorkerBatch.FORFEITED)

    def _audit_ended(self, batch_id: int) -> None:
        """A verdict, a settled dispute or a lapse on a job of a batch of ours waiting for its
        audits: tries the finalize as soon as an accept's challenge window can have passed."""
        found = self.store.status_of(batch_id)  # Every verdict on chain comes here: one row, no data.
        if found is None or found[0] != WorkerBatch.COMMITTED:
            return
        due = int(time.time()) + self.params.challenge_window
        if due < found[1]:
            self.store.set_batch_status(batch_id, WorkerBatch.COMMITTED, due)

    def _record_batch(self, event: ChainEvent) -> None:
        """A new batch: open at once if its inputs are inline, else open once they are fetched."""
        a = event.args
        data = {"requester": a["requester"], "price": a["price"], "size": len(a["inputs"]), "block": event.block}
        model = "0x" + bytes(a["modelId"]).hex()
        if not any(item["uri"] for item in a["inputs"]):
            inputs = [bytes(item["data"]) for item in a["inputs"]]
            status = WorkerBatch.OPEN if self._priced(model, a["price"], inputs) else WorkerBatch.UNDERPAID
            self.store.put_batch(a["batchId"], model, status, {**data, "inputs": [x.hex() for x in inputs]})
            return
        sources = sources_of(a["inputs"])
        self.store.put_batch(a["batchId"], model, WorkerBatch.FETCHING, {**data, "sources": sources})
        self.fetcher.submit(a["batchId"], sources)

    def _priced(self, model_hex: str, price: int, inputs: list[bytes]) -> bool:
        """Whether a batch's price per job covers each of its inputs (a generation's cost grows
        with its max_tokens); one that does not is left to others, as unpaid work."""
        plugin = self.engine.plugin(bytes.fromhex(model_hex[2:]))
        least = max(plugin.min_job_price(x) for x in inputs)
        if price < least:
            log.info("skipping an underpaid batch", extra={"model": plugin.name, "price": price, "least": least})
        return price >= least

    def _priced_batch(self, batch_id: int, inputs: list[bytes]) -> bool:
        found = self.store.batch(batch_id)
        return found is not None and self._priced(found[0], found[2]["price"], inputs)

    # ------------------------------------------------------------ work

    def _take_open(self) -> bool:
        if time.monotonic() < self._inactive_until:
            return False
        # Hold one round of work besides the one computing: enough to keep the engine busy,
        # little enough to leave work to other workers.
        computing = self.compute.batches
        taken = self.store.batch_deadlines(WorkerBatch.TAKEN)
        if any(b not in computing for b in taken):
            return False
        busy = computing | self._computed.keys()
        if busy & self.store.batch_deadlines(WorkerBatch.OPEN).keys():
            return False  # Open batches computed while idle: their commit takes them on.
        backlog = self.store.jobs_with_status(WorkerBatch.OPEN)
        idle = not busy and not taken
        if idle and 0 < backlog <= self.settings.commit_open_max_jobs and self._compute_open():
            return True
        ids: list[int] = []
        jobs = 0
        most = self.settings.round_jobs(backlog)
        for batch_id, _, data, _ in self.store.batches_with_status(WorkerBatch.OPEN, self.settings.take_max_batches):
            if ids and jobs + data["size"] > most:
                break
            ids.append(batch_id)
            jobs += data["size"]
        if not ids:
            return False
        events = self._send("take", self.client.market.functions.takeBatches(ids), ids)
        if events is None:
            return True
        self._mark(events, "BatchTaken", WorkerBatch.TAKEN, "deadline")
        self.metrics.batches.labels("taken").inc(len(ids))
        log.info("batches taken", extra={"batches": ids})
        return True

    def _compute_open(self) -> bool:
        """An idle worker computes a small open backlog before taking it on, then takes it on
        and commits it in one transaction: one transaction less (about 30,000 gas for a lone
        job) and no take round trip before the result. Another worker may commit first; then
        only this worker's idle time was spent."""
        # Idle, so none is computed yet. A model that streams is taken on first: its text is
        # streamed only once the batch can no longer be cancelled.
        open_ = self.store.batches_with_status(WorkerBatch.OPEN)
        pending = [(b, m, d) for b, m, d, _ in open_ if not self.engine.plugin(bytes.fromhex(m[2:])).streams]
        if not pending:
            return False
        self.compute.start(pending)
        log.info("computing open batches while idle", extra={"batches": [b for b, _, _ in pending]})
        return True

    def _start_compute(self) -> bool:
        """Hands the taken batches not yet computed to the background thread, if it is free."""
        if self.compute.busy:
            return False
        pending = [
            (b, m, d) for b, m, d, _ in self.store.batches_with_status(WorkerBatch.TAKEN) if b not in self._computed
        ]
        if not pending:
            return False
        self.compute.start(pending)
        return True

    def _collect(self) -> bool:
        """Takes the hashes of a finished background computation; re-raises its failure."""
        computed = self.compute.collect()
        if computed is None:
            return False
        self._computed |= computed
        return True

    def _commit_computed(self) -> bool:
        if not self._drop_lost():
            return False
        ids = sorted(self._computed)
        hashes = [self._computed[b] for b in ids]
        taken_on = self.store.batch_deadlines(WorkerBatch.OPEN).keys() & set(ids)
        market = self.client.market
        events = None
        due = self._due(0.0)
        if due:  # Batches whose window has ended ride on the commit: one transaction less.
            calls = [market.encode_abi("commitResults", [ids, hashes]), market.encode_abi("finalizeBatches", [due])]
            events = self._send("commit", market.functions.multicall(calls), ids + due)
        # Nothing due, or refused for a batch to finalize (finalized by another, our clock ahead):
        # commit alone. Refused for a batch to commit (lost in a race): the next pass commits the rest.
        if events is None and (not due or self._drop_lost() == len(ids)):
            events = self._send("commit", market.functions.commitResults(ids, hashes), ids)
        if events is not None:
            # Open batches it took on in the commit (the contract emits no `BatchTaken` for them).
            self.metrics.batches.labels("taken").inc(len(taken_on))
            self._mark(events, "ResultsCommitted", WorkerBatch.COMMITTED, "challengeDeadline")
            finalized = self._mark(events, "BatchFinalized", WorkerBatch.FINALIZED)
            self.metrics.batches.labels("finalized").inc(finalized)
            self._computed = {}  # All of them committed.
            self.metrics.batches.labels("committed").inc(len(ids))
            log.info(
                "results committed",
                extra={"batches": ids, "jobs": sum(len(h) for h in hashes), "finalized": finalized},
            )
        return True

    def _drop_lost(self) -> int:
        """Forgets computed batches no longer ours to commit; returns how many are left. Open
        ones were computed while idle: the commit takes them on."""
        live = (
            self.store.batch_deadlines(WorkerBatch.TAKEN).keys() | self.store.batch_deadlines(WorkerBatch.OPEN).keys()
        )
        self._computed = {b: h for b, h in self._computed.items() if b in live}
        return len(self._computed)

    def _due(self, hold: float) -> list[int]:
        """Committed batches whose challenge window ended more than a margin plus `hold` ago."""
        wait = self.settings.finalize_margin + hold
        now = time.time()
        return [b for b, deadline in self.store.batch_deadlines(WorkerBatch.COMMITTED).items() if now > deadline + wait]

    def _finalize_due(self) -> bool:
        """Finalizes due batches in a transaction of their own once they have waited
        `finalize_hold` for a commit to ride on."""
        due = self._due(self.settings.finalize_hold)
        if not due:
            return False
        events = self._send("finalize", self.client.market.functions.finalizeBatches(due), due)
        if events is not None:
            self._mark(events, "BatchFinalized", WorkerBatch.FINALIZED)
            self.metrics.batches.labels("finalized").inc(len(due))
        return events is not None

    def _maybe_withdraw(self) -> None:
        interval = self.settings.withdraw_interval
        if interval <= 0 or time.monotonic() - self._last_withdraw < interval:
            return
        self._last_withdraw = time.monotonic()
        if self.client.market.functions.balanceOf(self.address).call() > 0:
            self._send("withdraw", self.client.market.functions.withdraw(), [])

    def _mark(self, events: list[ChainEvent], event_name: str, status: str, deadline_arg: str | None = None) -> int:
        """Sets the status of the batches a receipt's `event_name` events name, at once (the
        listener delivers the same events later, and handles them the same way); returns how
        many it set."""
        marked = 0
        for event in events:
            if event.name == event_name:
                a = event.args
                self.store.set_batch_status(a["batchId"], status, a[deadline_arg] if deadline_arg else None)
                marked += 1
        return marked

    def _send(self, action: str, fn: Any, batch_ids: list[int]) -> list[ChainEvent] | None:
        """Sends one transaction and returns its receipt's events; on an expected race marks the
        batch named by the error and returns None so the rest is retried on the next pass."""
        try:
            receipt = self.sender.transact_raw(fn)
        except (ContractRevertError, TransactionFailedError) as exc:
            found = revert_of(exc)
            if found is not None and found.name == "JobMarketNotRegistered":
                # Its stake is no longer active: a state of the chain, not a fault of this pass.
                log.warning("not an active worker on chain; taking no work for a while", extra={"error": str(found)})
                self._inactive_until = time.monotonic() + INACTIVE_RETRY_S
                open_now = self.store.batch_deadlines(WorkerBatch.OPEN)
                self._computed = {b: h for b, h in self._computed.items() if b not in open_now}  # Not ours to take.
                return None
            named: int = -1 if found is None else found.args_by_name.get("batchId") or found.args_by_name.get("id", -1)
            if named not in batch_ids and (found is None or found.name not in NOT_DUE_ERRORS):
                raise  # Not about what this transaction was for: not one of our races.
            revert = self.expected_revert(action, exc, EXPECTED_RACES, NOT_YET)
            if revert is None:
                raise
            if revert.name == "JobMarketAuditsOpen":
                # Its audits are still being verified: finalize the others now, this one later.
                # With none open, the last accept's challenge window is all that is left.
                retry = max(int(revert.args_by_name["challengeableUntil"]), int(time.time()))
                if revert.args_by_name["open"] > 0:
                    retry += AUDIT_RETRY_S
                self.store.set_batch_status(named, WorkerBatch.COMMITTED, retry)
            elif revert.name in EXPECTED_RACES:
                # Another worker was faster. Its transaction is mined, so the listener learns which
                # batches it took from the events; the one the revert names is read directly.
                self.reconciler.refresh(named)
                self.listener.poll(self._on_event)
            return None
        self.metrics.transactions.labels(action).inc()
        return self.listener.record_receipt(receipt)

    def _sync_url(self) -> None:
        """Makes the URL registered on chain this node's, so requesters and verifiers find it."""
        staking = self.client.staking.functions
        stake = self.client.view.stake(self.address, Role.WORKER)
        if stake.amount == 0:
            log.warning("this worker has no stake yet: stake before taking work", extra={"address": self.address})
        elif not stake.active:
            log.warning("this worker's stake is not active (leaving, or slashed below the minimum): it takes no work")
        elif staking.workerUrl(self.address).call() != self.settings.url:
            self.sender.transact(staking.setWorkerUrl(self.settings.url))
            log.info("registered URL updated", extra={"url": self.settings.url})

    def reconcile_reorg(self, fork: int, touched: set[int] | None) -> None:
        """See `node.worker.reconcile`. A computation in flight is thrown away: its inputs may
        no longer be those of its batches."""
        self.compute.invalidate()
        self._computed = self.reconciler.after_reorg(fork, touched)
        log.warning("reorg reconciled", extra={"fork": fork, "batches": None if touched is None else len(touched)})

    def _reconcile(self) -> None:
        """After a restart: re-read every unfinished batch from the contract, fetch again what
        was being fetched, and pick up the outputs already computed for the batches still taken."""
        self._computed = self.reconciler.unfinished()
        for batch_id, _, data, _ in self.store.batches_with_status(WorkerBatch.FETCHING):  # Fetches cut short.
            self.fetcher.submit(batch_id, data["sources"])
