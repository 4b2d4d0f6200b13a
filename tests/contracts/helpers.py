"""Constants, request builders and lifecycle steps shared by the contract tests."""

from __future__ import annotations

from dataclasses import dataclass

from eth_utils import keccak
CREDIT = 10**6  # Credits have 6 decimals.
MIN_WORKER_STAKE = 100 * CREDIT
MIN_VERIFIER_STAKE = 100 * CREDIT
UNBONDING = 24 * 3600
PAYMENT = 2 * CREDIT
MIN_PRICE = 1 * CREDIT
TIMEOUT = 600

EMBED_ID = keccak(b"all-MiniLM-L6-v2 weights")
DIGITS_ID = keccak(b"digits classifier weights")
TOLERANCE_HASH = keccak(b'{"max_abs":0.001,"min_cosine":0.9999}')

EXACT, TOLERANT = 1, 2
WORKER, VERIFIER = 0, 1

# Job statuses, as in IJobMarket.JobStatus.
(NONE, OPEN, TAKEN, COMMITTED, UNAUDITED, AUDITED, DISPUTED, FINALIZED, REJECTED, EXPIRED, CANCELLED) = range(11)
# Credit reasons, as in IJobMarket.CreditReason.
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
    "challengeWindow": 600,
    "verdictWindow": 300,
    "maxInputBytes": 4096,
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
    )


def request(
    payload: bytes = b"hello nightshift",
    *,
    model=EMBED_ID,
    payment=PAYMENT,
    timeout=TIMEOUT,
    audit_bps=0,
    reopen=False,
    uri="",
):
    """A JobMarket.JobRequest tuple with an inline input (or a URI when `uri` is given)."""
    inline = b"" if uri else payload
    return (model, keccak(payload), inline, uri, payment, timeout, audit_bps, reopen)


@dataclass
class Protocol:
    """The deployed contracts and the lifecycle steps, for readable tests."""

    market: object
    staking: object
    credit: object
    chain: object

    def create(self, requester, *requests):
        tx = self.market.createJobs(list(requests) or [request()], sender=requester)
        first = tx.return_value
        if first is None:  # Some providers do not trace return values; read the event instead.
            first = tx.decode_logs(self.market.JobCreated)[0].jobId
        return first, tx

    def take(self, worker, *job_ids):
        return self.market.takeJobs(list(job_ids), sender=worker)

    def commit(self, worker, job_ids, output_hashes=None):
        hashes = output_hashes or [keccak(b"output %d" % j) for j in job_ids]
        return self.market.commitResults(list(job_ids), hashes, sender=worker)

    def draw(self, job_ids, sender):
        return self.market.drawAudits(list(job_ids), sender=sender)

    def after(self, seconds: int):
        """Moves time past `seconds` from now and mines a block."""
        self.chain.mine(1, timestamp=self.chain.pending_timestamp + seconds + 1)

    def committed_job(self, requester, worker, *, audit_bps=0):
        job_id, _ = self.create(requester, request(audit_bps=audit_bps))
        self.take(worker, job_id)
        self.commit(worker, [job_id])
        self.chain.mine(1)  # The seed block.
        return job_id

    def audited_job(self, requester, worker, sender):
        """A committed job with audit rate 1, drawn; returns (job_id, assigned verifier address)."""
        job_id = self.committed_job(requester, worker, audit_bps=10_000)
        tx = self.draw([job_id], sender)
        (assigned,) = tx.decode_logs(self.market.AuditAssigned)
        return job_id, assigned.verifier


def by_address(accounts_list, address):
    """The account among `accounts_list` with this address."""
    return next(a for a in accounts_list if a.address == address)
