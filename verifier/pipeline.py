"""The verifier's transactions: sent back to back without waiting, then waited for together.

Verdicts, votes and challenges on distinct jobs are independent, so a pass sends them all and
waits once (`flush`). A transaction the contract refuses at simulation, or that reverts when
mined, because another party already did the work is an expected race, logged at info; one that
came too early has its task run again later (`not_due`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from typing import Any

from hexbytes import HexBytes

from node.chain.errors import ContractRevertError
from node.chain.listener import EventListener
from node.chain.tx import TransactionFailedError, TxSender
from node.metrics import Metrics

log = logging.getLogger(__name__)

ExpectedRevert = Callable[
    [str, ContractRevertError | TransactionFailedError, Collection[str], Collection[str]], ContractRevertError | None
]
BATCHED = ("verdicts", "draws")  # Transactions for many jobs: if one reverts, each job is retried alone.


class TxPipeline:
    def __init__(
        self,
        sender: TxSender,
        listener: EventListener,
        metrics: Metrics,
        expected: ExpectedRevert,
        races: Collection[str],
        not_due: Collection[str],
    ):
        self._sender, self._listener, self._metrics = sender, listener, metrics
        self._expected, self._races, self._not_due_errors = expected, races, not_due
        self._pending: list[tuple[list[str], str, HexBytes, Callable[[], None] | None]] = []
        self.not_due: list[str] = []  # Tasks to run again later: too early, or their transaction reverted.

    def send(
        self, task: str, action: str, fn: Any, on_success: Callable[[], None] | None = None, gas_headroom: int = 0
    ) -> None:
        """Simulates and sends a transaction without waiting; `flush` waits for it."""
        try:
            tx_hash = self._sender.send_nowait(fn, gas_headroom)
        except ContractRevertError as exc:
            self.expected_race(task, action, exc)
            return
        self.add([task] if task else [], action, tx_hash, on_success)

    def add(self, tasks: list[str], action: str, tx_hash: HexBytes, on_success: Callable[[], None] | None) -> None:
        """A transaction already sent, for `flush` to wait for."""
        self._pending.append((tasks, action, tx_hash, on_success))

    def flush(self) -> None:
        """Waits for every transaction sent; runs each one's success callback."""
        pending, self._pending = self._pending, []
        for tasks, action, tx_hash, on_success in pending:
            try:
                receipt = self._sender.wait_raw(tx_hash)
            except TransactionFailedError as exc:
                if action in BATCHED:  # One job moved on after the simulation: retry each.
                    log.info(
                        "batch reverted; retrying", extra={"action": action, "jobs": len(tasks), "error": str(exc)}
                    )
                    self.not_due += tasks
                    continue
                try:
                    self.expected_race(tasks[0] if tasks else "", action, exc)
                except TransactionFailedError:  # Not a race: logged, and its tasks run again later.
                    log.exception("transaction reverted; retrying later", extra={"action": action})
                    self.not_due += tasks
                continue
            self._metrics.transactions.labels(action).inc()
            self._listener.record_receipt(receipt)
            if on_success is not None:
                on_success()

    def expected_race(self, task: str, action: str, exc: ContractRevertError | TransactionFailedError) -> None:
        """Logs an expected race, or schedules a task that came too early; re-raises anything else."""
        revert = self._expected(action, exc, self._races, self._not_due_errors)
        if revert is None:
            raise exc
        if revert.name in self._not_due_errors and task:
            self.not_due.append(task)
