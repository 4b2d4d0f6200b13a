"""The verifier's batches after a reorg past the confirmations (see `docs/protocol.md`)."""

from __future__ import annotations

from node.chain.market import Market
from node.chain.protocol import BatchStatus
from node.store import Store, VerifierBatch

# The verifier's view of a batch's status on chain, after a reorg (None: no such batch).
LOCAL_STATUS = {
    BatchStatus.OPEN: VerifierBatch.CREATED,
    BatchStatus.TAKEN: VerifierBatch.CREATED,
    BatchStatus.COMMITTED: VerifierBatch.COMMITTED,
    BatchStatus.DRAWN: VerifierBatch.DRAWN,
    BatchStatus.AUDITED: VerifierBatch.DRAWN,
    BatchStatus.FINALIZED: VerifierBatch.FINALIZED,
    BatchStatus.EXPIRED: VerifierBatch.FINALIZED,
    BatchStatus.CANCELLED: VerifierBatch.FINALIZED,
    BatchStatus.FORFEITED: VerifierBatch.FORFEITED,
}


def restore_batches(store: Store, view: Market, fork: int, touched: set[int] | None) -> set[int]:
    """Forgets the batches created after `fork` (their events come again if they are on the new
    chain) and gives every other touched one (None: every batch) the contract's status; returns
    the batches it went over, whose tasks are to run again."""
    ids = set(store.batch_ids()) if touched is None else touched
    for batch_id in sorted(ids):
        found = store.batch(batch_id)
        if found is None:
            continue
        status = LOCAL_STATUS.get(view.batch(batch_id).status)
        if found[2].get("block", 0) > fork or status is None:
            store.delete_batch(batch_id, [])
        else:
            store.set_batch_status(batch_id, status)
    return ids
