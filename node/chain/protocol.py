"""What the contracts define, typed once: their enums, job ids, and the result commitment.

Every other module reads batch and audit statuses, job ids and commitments through here, so a
change to the contracts' layout is a change to this file only.
"""

from __future__ import annotations

from enum import IntEnum

from eth_abi import encode
from eth_utils import keccak, to_checksum_address

INDEX_BITS = 16


class BatchStatus(IntEnum):
    """`IJobMarket.BatchStatus`."""

    NONE = 0
    OPEN = 1
    TAKEN = 2
    COMMITTED = 3
    DRAWN = 4
    AUDITED = 5
    FINALIZED = 6
    EXPIRED = 7
    CANCELLED = 8
    FORFEITED = 9


class AuditStatus(IntEnum):
    """`IVerificationGame.AuditStatus`."""

    NONE = 0
    DRAWING = 1
    ASSIGNED = 2
    ACCEPTED = 3
    DISPUTED = 4
    UPHELD = 5
    OVERTURNED = 6
    MOOT = 7
    LAPSED = 8


OPEN_AUDITS = frozenset({AuditStatus.DRAWING, AuditStatus.ASSIGNED, AuditStatus.DISPUTED})


def job_id(batch_id: int, index: int) -> int:
    """The id of job `index` of batch `batch_id`."""
    return (batch_id << INDEX_BITS) | index


def batch_of(job: int) -> int:
    return job >> INDEX_BITS


def index_of(job: int) -> int:
    return job & ((1 << INDEX_BITS) - 1)


def result_commitment(worker: str, job: int, output: bytes) -> bytes:
    """What a worker commits for a job: `keccak256(abi.encode(worker, jobId, keccak256(output)))`.
    Bound to the worker, so that no other worker can commit the same results first, and hiding
    the output's own hash until the output is served."""
    return keccak(encode(["address", "uint256", "bytes32"], [to_checksum_address(worker), job, keccak(output)]))


def job_status(batch: BatchStatus, audit: AuditStatus) -> str:
    """A job's status as users see it, from its batch's and its audit's."""
    if batch == BatchStatus.FORFEITED:
        return "rejected" if audit == AuditStatus.OVERTURNED else "forfeited"
    if audit in OPEN_AUDITS:
        return {AuditStatus.DRAWING: "audit pending", AuditStatus.ASSIGNED: "audited"}.get(audit, "disputed")
    if batch == BatchStatus.FINALIZED:
        return "finalized"
    if batch in (BatchStatus.COMMITTED, BatchStatus.DRAWN, BatchStatus.AUDITED):
        return "committed"
    return batch.name.lower()
