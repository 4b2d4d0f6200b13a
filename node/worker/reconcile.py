"""Bringing the worker's store back in line with the contract, after a restart or a reorg.

The store holds what the worker did and saw; the contract holds what happened. After a restart
every unfinished batch is re-read from the contract. After a reorg past the confirmations, a
batch whose creation the reorg replaced is forgotten with its outputs (its id may now name
another batch, with other inputs, whose creation the listener delivers again), and every other
batch the replaced blocks touched is re-read, whatever status it had reached here.
"""

from __future__ import annotations

from node.chain.market import Market
from node.chain.protocol import BatchStatus, job_id, result_commitment
from node.store import Store, WorkerBatch

# The worker's view of a batch's status: all it needs to know is whether it is still to be paid.
LOCAL_STATUS = {
    BatchStatus.OPEN: WorkerBatch.OPEN,
    BatchStatus.TAKEN: WorkerBatch.TAKEN,
    BatchStatus.COMMITTED: WorkerBatch.COMMITTED,
    BatchStatus.DRAWN: WorkerBatch.COMMITTED,
    BatchStatus.AUDITED: WorkerBatch.COMMITTED,
    BatchStatus.FINALIZED: WorkerBatch.FINALIZED,
    BatchStatus.EXPIRED: WorkerBatch.EXPIRED,
    BatchStatus.CANCELLED: WorkerBatch.CANCELLED,
    BatchStatus.FORFEITED: WorkerBatch.FORFEITED,
}
UNFINISHED = (WorkerBatch.OPEN, WorkerBatch.TAKEN, WorkerBatch.COMMITTED)


class Reconciler:
    def __init__(self, store: Store, view: Market, address: str):
        self._store, self._view, self._address = store, view, address

    def refresh(self, batch_id: int) -> None:
        """Sets a batch's local status from the contract's."""
        batch = self._view.batch(batch_id)
        status = LOCAL_STATUS.get(batch.status, WorkerBatch.NONE)
        if status in (WorkerBatch.TAKEN, WorkerBatch.COMMITTED) and batch.worker != self._address:
            status = WorkerBatch.LOST
        self._store.set_batch_status(batch_id, status, batch.deadline)

    def unfinished(self) -> dict[int, list[bytes]]:
        """Re-reads every unfinished batch; returns the result commitments of those still taken
        whose outputs are all stored (computed before a crash), ready to commit."""
        for status in UNFINISHED:
            for batch_id in self._store.batch_deadlines(status):
                self.refresh(batch_id)
        computed = {}
        for batch_id, _, data, _ in self._store.batches_with_status(WorkerBatch.TAKEN):
            jobs = [job_id(batch_id, i) for i in range(data["size"])]
            found = self._store.outputs(jobs)
            if len(found) == len(jobs):
                computed[batch_id] = [result_commitment(self._address, j, found[j][0]) for j in jobs]
        return computed

    def after_reorg(self, fork: int, touched: set[int] | None) -> dict[int, list[bytes]]:
        """Forgets the batches created after `fork`, re-reads the others `touched` (None: every
        batch) and the unfinished ones; returns what `unfinished` does."""
        for batch_id in self._store.batch_ids() if touched is None else sorted(touched):
            found = self._store.batch(batch_id)
            if found is None:
                continue
            _, status, data, _ = found
            if data.get("block", 0) > fork:
                self._store.delete_batch(batch_id, [job_id(batch_id, i) for i in range(data["size"])])
            elif (
                status not in (WorkerBatch.FETCHING, WorkerBatch.UNFETCHABLE, WorkerBatch.UNDERPAID)
                and "inputs" in data
            ):
                self.refresh(batch_id)  # One that never opened here had nothing of its chain state acted on.
        return self.unfinished()
