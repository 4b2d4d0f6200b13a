"""What the contracts define, typed once: their enums, job ids, the structs their views return,
and the result commitment.

Every other module reads statuses, job ids, structs and commitments through here, so a change to
the contracts' layout is a change to this file only. The enums are checked against the
interfaces' Solidity and the structs against the ABI (tests/unit/test_protocol.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from enum import IntEnum
from typing import Any, ClassVar

from eth_abi import encode
from eth_utils import keccak, to_checksum_address

INDEX_BITS = 16
MAX_INDEX = (1 << INDEX_BITS) - 1


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


class Vote(IntEnum):
    """`IVerificationGame.Vote`."""

    NONE = 0
    ACCEPT = 1
    REJECT = 2


class Role(IntEnum):
    """`IStaking.Role`."""

    WORKER = 0
    VERIFIER = 1


class VerificationMode(IntEnum):
    """`IModelRegistry.VerificationMode`."""

    NONE = 0
    EXACT = 1
    TOLERANT = 2


class CreditReason(IntEnum):
    """`IJobMarket.CreditReason`."""

    WORKER_PAYMENT = 0
    VERIFIER_FEE = 1
    PROTOCOL_FEE = 2
    REFUND = 3
    SLASH_SHARE = 4


#: The enums by their Solidity names, as the ABI's `internalType` gives them.
ENUMS: dict[str, type[IntEnum]] = {
    "IJobMarket.BatchStatus": BatchStatus,
    "IJobMarket.CreditReason": CreditReason,
    "IVerificationGame.AuditStatus": AuditStatus,
    "IVerificationGame.Vote": Vote,
    "IStaking.Role": Role,
    "IModelRegistry.VerificationMode": VerificationMode,
}

OPEN_AUDITS = frozenset({AuditStatus.DRAWING, AuditStatus.ASSIGNED, AuditStatus.DISPUTED})


def job_id(batch_id: int, index: int) -> int:
    """The id of job `index` of batch `batch_id`."""
    if not 0 <= index <= MAX_INDEX:
        raise ValueError(f"job index {index} is outside 0..{MAX_INDEX}")
    return (batch_id << INDEX_BITS) | index


def batch_of(job: int) -> int:
    return job >> INDEX_BITS


def index_of(job: int) -> int:
    return job & ((1 << INDEX_BITS) - 1)


def parse_job(text: str) -> int:
    """A job as users write it, `12.3` (job 3 of batch 12), or its raw id."""
    batch, dot, index = text.partition(".")
    if dot:
        return job_id(int(batch), int(index))
    return int(text, 0)


def format_job(job: int) -> str:
    """`12.3` for job 3 of batch 12."""
    return f"{batch_of(job)}.{index_of(job)}"


# ---------------------------------------------------------------- the views' structs


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class _Struct:
    """A struct a view returns, decoded by field name: `abi_fields` are the Solidity names in
    ABI order, each mapped to the dataclass field of the same name in snake case."""

    abi_fields: ClassVar[tuple[str, ...]]
    _enums: ClassVar[dict[str, type[IntEnum]]] = {}

    @classmethod
    def decode(cls, value: Any) -> Any:
        """From web3's tuple for the struct."""
        if len(value) != len(cls.abi_fields):
            raise ValueError(f"{cls.__name__}: {len(value)} fields, expected {len(cls.abi_fields)}")
        kwargs = {}
        for name, item in zip(cls.abi_fields, value, strict=True):
            key = _snake(name)
            enum = cls._enums.get(key)
            kwargs[key] = enum(item) if enum else (list(item) if isinstance(item, list | tuple) else item)
        return cls(**kwargs)

    @classmethod
    def check_abi(cls, components: list[dict[str, Any]]) -> None:
        """Raises if the ABI's struct components are not this class's fields, in order."""
        names = tuple(c["name"] for c in components)
        if names != cls.abi_fields or [_snake(n) for n in names] != [f.name for f in fields(cls)]:  # type: ignore[arg-type]
            raise ValueError(f"{cls.__name__} has fields {cls.abi_fields}, the ABI {names}")


@dataclass(frozen=True)
class Batch(_Struct):
    """`IJobMarket.Batch`, from `getBatch`. Amounts in base units, times in chain seconds."""

    requester: str
    price: int
    size: int
    audit_bps: int
    reopen_on_expiry: bool
    worker: str
    deadline: int
    seed_block: int
    status: BatchStatus
    timeout: int

    abi_fields: ClassVar[tuple[str, ...]] = (
        "requester", "price", "size", "auditBps", "reopenOnExpiry", "worker", "deadline", "seedBlock", "status",
        "timeout",
    )  # fmt: skip
    _enums: ClassVar[dict[str, type[IntEnum]]] = {"status": BatchStatus}


@dataclass(frozen=True)
class Audit(_Struct):
    """`IVerificationGame.AuditView`, from `getAudit`."""

    status: AuditStatus
    round: int
    deadline: int
    seed_block: int
    auditor: str
    accuser: str
    panel: list[str]

    abi_fields: ClassVar[tuple[str, ...]] = ("status", "round", "deadline", "seedBlock", "auditor", "accuser", "panel")
    _enums: ClassVar[dict[str, type[IntEnum]]] = {"status": AuditStatus}

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_AUDITS


@dataclass(frozen=True)
class Stake(_Struct):
    """`IStaking.Stake`, from `getStake`."""

    amount: int
    locked: int
    unbonds_at: int
    active: bool

    abi_fields: ClassVar[tuple[str, ...]] = ("amount", "locked", "unbondsAt", "active")

    @property
    def free(self) -> int:
        return self.amount - self.locked


@dataclass(frozen=True)
class Params(_Struct):
    """`IJobMarket.Params`, from `params`: the protocol's parameters, fixed at deployment."""

    treasury: str
    protocol_fee_bps: int
    verifier_fee_bps: int
    collateral_bps: int
    base_audit_bps: int
    slash_cheated_bps: int
    slash_verifiers_bps: int
    panel_size: int
    challenge_window: int
    verdict_window: int
    max_input_bytes: int
    max_batch_size: int

    abi_fields: ClassVar[tuple[str, ...]] = (
        "treasury", "protocolFeeBps", "verifierFeeBps", "collateralBps", "baseAuditBps", "slashCheatedBps",
        "slashVerifiersBps", "panelSize", "challengeWindow", "verdictWindow", "maxInputBytes", "maxBatchSize",
    )  # fmt: skip


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
