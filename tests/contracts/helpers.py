"""Constants, request builders and lifecycle steps shared by the contract tests."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from eth_abi import encode
from eth_utils import keccak

CREDIT = 10**6  # Credits have 6 decimals.
MIN_WORKER_STAKE = 100 * CREDIT
MIN_VERIFIER_STAKE = 100 * CREDIT
UNBONDING = 24 * 3600
PRICE = 2 * CREDIT
MIN_PRICE = 1 * CREDIT
TIMEOUT = 600
WINDOW = 600
VERDICT_WINDOW = 300
COLLATERAL = 2 * PRICE  # collateralBps 20000
FEE = PRICE // 10  # verifierFeeBps 1000
PROTOCOL = PRICE // 20  # protocolFeeBps 500

EMBED_ID = keccak(b"all-MiniLM-L6-v2 weights")
DIGITS_ID = keccak(b"digits classifier weights")
TOLERANCE_HASH = keccak(b'{"max_abs":0.001,"min_cosine":0.9999}')

EXACT, TOLERANT = 1, 2
WORKER, VERIFIER = 0, 1


class BatchStatus(IntEnum):
    NONE, OPEN, TAKEN, COMMITTED, DRAWN, FINALIZED, EXPIRED, CANCELLED = range(8)


class AuditStatus(IntEnum):
    NONE, ASSIGNED, DISPUTED, ACCEPTED, REJECTED, LAPSED = range(6)


class JobStatus(IntEnum):
    NONE, OPEN, TAKEN, COMMITTED, UNAUDITED, AUDITED, DISPUTED, FINALIZED, REJECTED, EXPIRED, CANCELLED = range(11)


class Reason(IntEnum):
    WORKER_PAYMENT, VERIFIER_FEE, PROTOCOL_FEE, REFUND, SLASH_SHARE = range(5)


PARAMS = {
    "protocolFeeBps": 500,
    "verifierFeeBps": 1000,
    "collateralBps": 20000,
    # Zero, so that tests choose each job's audit fate with auditBps 0 (never) or 10000 (always).
    "baseAuditBps": 0,
    "slashCheatedBps": 5000,
    "slashVerifiersBps": 3000,
    "panelSize": 2,
    "challengeWindow": WINDOW,
    "verdictWindow": VERDICT_WINDOW,
    "maxInputBytes": 4096,
    "maxBatchSize": 256,
}


def market_params(treasury, **overrides):
    """The JobMarket.Params tuple, in struct order."""
    p = {**PARAMS, **overrides}
    return (
        treasury.address,
        p["protocolFeeBps"],
        p["verifierFeeBps"],
        p["collateralBps"],
        p["baseAuditBps"],
        p["slashCheatedBps"],
        p["slashVerifiersBps"],
        p["panelSize"],
        p["challengeWindow"],
        p["verdictWindow"],
        p["maxInputBytes"],
        p["maxBatchSize"],
    )


def job_input(payload: bytes = b"hello nightshift", uri: str = ""):
    """A JobInput tuple: inline bytes, or a URI when `uri` is given."""
    return (keccak(payload), b"" if uri else payload, uri)


def batch(*payloads: bytes, model=EMBED_ID, price=PRICE, timeout=TIMEOUT, audit_bps=0, reopen=False, inputs=None):
    """A BatchRequest tuple with one inline job per payload (one default job if none)."""
    inputs = inputs if inputs is not None else [job_input(p) for p in (payloads or (b"hello nightshift",))]
    return (model, price, timeout, audit_bps, reopen, inputs)


def job_id(batch_id: int, index: int = 0) -> int:
    """A job's id: `batchId << 16 | index`."""
    return (batch_id << 16) | index


def output_hashes(batch_id: int, size: int) -> list[bytes]:
    return [keccak(b"output %d %d" % (batch_id, i)) for i in range(size)]


@dataclass
class Protocol:
    """The deployed contracts and the lifecycle steps, for readable tests."""

    market: object
    staking: object
    credit: object
    chain: object

    def create(self, requester, *requests):
        tx = self.market.createBatches(list(requests) or [batch()], sender=requester)
        return tx.decode_logs(self.market.BatchCreated)[0].batchId, tx

    def take(self, worker, *batch_ids):
        return self.market.takeBatches(list(batch_ids), sender=worker)

    def commit(self, worker, batch_ids, hashes=None):
        hashes = hashes or [output_hashes(b, self.market.getBatch(b).size) for b in batch_ids]
        return self.market.commitResults(list(batch_ids), hashes, sender=worker)

    def after(self, seconds: int):
        """Moves time past `seconds` from now and mines a block."""
        self.chain.mine(1, timestamp=self.chain.pending_timestamp + seconds + 1)

    def committed_batch(self, requester, worker, *payloads, audit_bps=0):
        """A batch taken and committed, with its seed block mined; returns the batch id."""
        batch_id, _ = self.create(requester, batch(*payloads, audit_bps=audit_bps))
        self.take(worker, batch_id)
        self.commit(worker, [batch_id])
        self.chain.mine(1)  # The seed block.
        return batch_id

    def drawn_batch(self, requester, worker, *payloads, audit_bps=0):
        batch_id = self.committed_batch(requester, worker, *payloads, audit_bps=audit_bps)
        self.market.drawAudits([batch_id], sender=worker)
        return batch_id

    def audited_job(self, requester, worker):
        """A one-job batch with audit rate 1, drawn; returns (job id, assigned verifier address)."""
        batch_id = self.committed_batch(requester, worker, audit_bps=10_000)
        tx = self.market.drawAudits([batch_id], sender=worker)
        (assigned,) = tx.decode_logs(self.market.AuditAssigned)
        return assigned.jobId, assigned.verifier


def by_address(accounts_list, address):
    """The account among `accounts_list` with this address."""
    return next(a for a in accounts_list if a.address == address)


def expected_audit(chain, seed_block: int, job: int, audit_bps: int) -> bool:
    """Whether the market's draw audits `job` at `audit_bps`, from its seed block's hash."""
    seed = chain.blocks[seed_block].hash
    roll = int.from_bytes(keccak(encode(["bytes32", "uint256"], [seed, job])), "big") % 10_000
    return roll < audit_bps
