"""Constants, request builders and lifecycle steps shared by the contract tests."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from eth_abi import encode
from eth_utils import keccak

from node.chain import protocol

CREDIT = 10**6  # Credits have 6 decimals.
MIN_WORKER_STAKE = 100 * CREDIT
MIN_VERIFIER_STAKE = 1_000 * CREDIT
VERIFIER_STAKE = 2_000 * CREDIT  # What each of the five test verifiers stakes.
UNBONDING = 24 * 3600
PRICE = 2 * CREDIT
MIN_PRICE = 1 * CREDIT
TIMEOUT = 600
WINDOW = 600
VERDICT_WINDOW = 300
COLLATERAL = 15 * PRICE  # collateralBps 150000
MAX_BATCH_COLLATERAL = MIN_VERIFIER_STAKE // 2
FEE = PRICE // 10  # verifierFeeBps 1000
PROTOCOL = PRICE // 20  # protocolFeeBps 500

EMBED_ID = keccak(b"all-MiniLM-L6-v2 weights")
DIGITS_ID = keccak(b"digits classifier weights")
TOLERANCE_HASH = keccak(b'{"max_abs":0.001,"min_cosine":0.9999}')

EXACT, TOLERANT = 1, 2
WORKER, VERIFIER = 0, 1


class BatchStatus(IntEnum):
    NONE, OPEN, TAKEN, COMMITTED, DRAWN, AUDITED, FINALIZED, EXPIRED, CANCELLED, FORFEITED = range(10)


class AuditStatus(IntEnum):
    NONE, DRAWING, ASSIGNED, ACCEPTED, DISPUTED, UPHELD, OVERTURNED, MOOT, LAPSED = range(9)


class Vote(IntEnum):
    NONE, ACCEPT, REJECT = range(3)


class Reason(IntEnum):
    WORKER_PAYMENT, VERIFIER_FEE, PROTOCOL_FEE, REFUND, SLASH_SHARE = range(5)


PARAMS = {
    "protocolFeeBps": 500,
    "verifierFeeBps": 1000,
    "collateralBps": 150000,
    # The lowest rate that, with this collateral, makes cheating lose (the constructor checks it).
    # Tests that need a job audited raise a batch's rate to 10000; `unaudited_batch` retries
    # until the draw selects none.
    "baseAuditBps": 1000,
    "slashCheatedBps": 5000,
    "slashVerifiersBps": 3000,
    "panelSize": 3,
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
    """A job's id (`node.chain.protocol.job_id`), job 0 unless told."""
    return protocol.job_id(batch_id, index)


def output_hashes(batch_id: int, size: int) -> list[bytes]:
    return [keccak(b"output %d %d" % (batch_id, i)) for i in range(size)]


@dataclass
class Protocol:
    """The deployed contracts and the lifecycle steps, for readable tests."""

    market: object
    game: object
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

    def unaudited_batch(self, requester, worker, *payloads, tries: int = 30):
        """A committed batch whose draw (not run yet) selects none of its jobs at the base rate:
        batches are committed until one is, as the draw is the chain's randomness."""
        rate = self.market.params().baseAuditBps
        for _ in range(tries):
            batch_id = self.committed_batch(requester, worker, *payloads)
            seed_block = self.market.getBatch(batch_id).seedBlock
            size = self.market.getBatch(batch_id).size
            if not any(expected_audit(self.chain, seed_block, job_id(batch_id, i), rate) for i in range(size)):
                return batch_id
        raise AssertionError(f"no unaudited draw in {tries} tries")

    def drawn_batch(self, requester, worker, *payloads):
        """A batch drawn with none of its jobs selected (challengeable during its window)."""
        batch_id = self.unaudited_batch(requester, worker, *payloads)
        self.market.drawAudits([batch_id], sender=worker)
        return batch_id

    def audited_job(self, requester, worker):
        """A one-job batch with audit rate 1, drawn, its auditor drawn; returns (job id, auditor
        address)."""
        batch_id = self.committed_batch(requester, worker, audit_bps=10_000)
        self.market.drawAudits([batch_id], sender=worker)
        job = job_id(batch_id)
        tx = self.game.drawVerifiers([job], sender=worker)
        (assigned,) = tx.decode_logs(self.game.AuditAssigned)
        return job, assigned.verifier

    def dispute_panel(self, job, caller):
        """Mines the panel's seed block and draws the panel; returns the panelists' addresses."""
        self.chain.mine(1)
        tx = self.game.drawVerifiers([job], sender=caller)
        return [e.verifier for e in tx.decode_logs(self.game.PanelistDrawn)]


def by_address(accounts_list, address):
    """The account among `accounts_list` with this address."""
    return next(a for a in accounts_list if a.address == address)


def expected_audit(chain, seed_block: int, job: int, audit_bps: int) -> bool:
    """Whether the market's draw audits `job` at `audit_bps`, from its seed block's hash."""
    seed = chain.blocks[seed_block].hash
    roll = int.from_bytes(keccak(encode(["bytes32", "uint256"], [seed, job])), "big") % 10_000
    return roll < audit_bps
