"""createJobs, cancelJobs and the constructor's parameter checks."""

import ape
from eth_utils import keccak

from .helpers import (
    CANCELLED,
    DIGITS_ID,
    EMBED_ID,
    MIN_PRICE,
    OPEN,
    PAYMENT,
    REFUND,
    TIMEOUT,
    request,
)

UNKNOWN_ID = keccak(b"not registered")


def test_create_jobs_escrows_payment_and_emits_job_created(proto, market, credit, requester):
    before = credit.balanceOf(requester)
    payload = b"The quick brown fox"
    job_id, tx = proto.create(requester, request(payload))
    assert job_id == 1
    assert tx.events.filter(market.JobCreated) == [
        market.JobCreated(
            jobId=1,
            requester=requester,
            modelId=EMBED_ID,
            inputHash=keccak(payload),
            input=payload,
            inputUri="",
            payment=PAYMENT,
            timeout=TIMEOUT,
            auditBps=0,
            reopenOnExpiry=False,
        )
    ]
    assert credit.balanceOf(requester) == before - PAYMENT
    assert credit.balanceOf(market) == PAYMENT
    job = market.getJob(1)
    assert (job.requester, job.payment, job.status, job.modelId, job.worker) == (
        requester.address,
        PAYMENT,
        OPEN,
        EMBED_ID,
        ape.utils.ZERO_ADDRESS,
    )
    assert market.nextJobId() == 2


def test_create_jobs_with_uri_input_records_uri(proto, market, requester):
    _, tx = proto.create(requester, request(b"remote bytes", uri="https://example.org/input.bin"))
    (event,) = tx.decode_logs(market.JobCreated)
    assert event.input == b""
    assert event.inputUri == "https://example.org/input.bin"
    assert event.inputHash == keccak(b"remote bytes")


def test_create_jobs_batch_assigns_consecutive_ids_with_one_transfer(proto, market, credit, requester):
    requests = [request(b"input %d" % i, model=DIGITS_ID if i % 2 else EMBED_ID) for i in range(16)]
    first, tx = proto.create(requester, *requests)
    created = tx.decode_logs(market.JobCreated)
    assert [e.jobId for e in created] == list(range(first, first + 16))
    assert len(tx.decode_logs(credit.Transfer)) == 1
    assert credit.balanceOf(market) == 16 * PAYMENT


def test_create_jobs_with_raised_audit_rate_escrows_premium(proto, market, credit, requester):
    before = credit.balanceOf(requester)
    job_id, tx = proto.create(requester, request(audit_bps=5_000))
    premium = PAYMENT * 1000 // 10_000
    assert market.premiumFor(PAYMENT, 5_000) == premium
    assert credit.balanceOf(requester) == before - PAYMENT - premium
    assert market.getJob(job_id).auditBps == 5_000


def test_create_jobs_reverts_if_empty(market, requester, staked):
    with ape.reverts(market.JobMarketEmptyBatch):
        market.createJobs([], sender=requester)


def test_create_jobs_reverts_if_price_below_model_minimum(market, requester, staked):
    with ape.reverts(
        market.JobMarketPriceTooLow, index=0, modelId=EMBED_ID, payment=MIN_PRICE - 1, minPrice=MIN_PRICE
    ):
        market.createJobs([request(payment=MIN_PRICE - 1)], sender=requester)


def test_create_jobs_reverts_if_model_unknown(market, registry, requester, staked):
    with ape.reverts(registry.ModelRegistryUnknownModel, modelId=UNKNOWN_ID):
        market.createJobs([request(model=UNKNOWN_ID)], sender=requester)


def test_create_jobs_reverts_if_model_inactive(market, registry, owner, requester, staked):
    registry.setActive(DIGITS_ID, False, sender=owner)
    with ape.reverts(registry.ModelRegistryInactiveModel, modelId=DIGITS_ID):
        market.createJobs([request(model=DIGITS_ID)], sender=requester)


def test_create_jobs_reverts_if_input_too_large(market, requester, staked):
    big = b"x" * 4097
    with ape.reverts(market.JobMarketInputTooLarge, index=1, length=4097, maxLength=4096):
        market.createJobs([request(), request(big)], sender=requester)


def test_create_jobs_reverts_if_input_and_uri_both_or_neither(market, requester, staked):
    both = (EMBED_ID, keccak(b"a"), b"a", "https://example.org/a", PAYMENT, TIMEOUT, 0, False)
    neither = (EMBED_ID, keccak(b""), b"", "", PAYMENT, TIMEOUT, 0, False)
    with ape.reverts(market.JobMarketInvalidInput, index=0):
        market.createJobs([both], sender=requester)
    with ape.reverts(market.JobMarketInvalidInput, index=0):
        market.createJobs([neither], sender=requester)


def test_create_jobs_reverts_if_inline_input_does_not_match_hash(market, requester, staked):
    forged = (EMBED_ID, keccak(b"claimed"), b"actual", "", PAYMENT, TIMEOUT, 0, False)
    with ape.reverts(market.JobMarketInputHashMismatch, index=0, inputHash=keccak(b"claimed"), actual=keccak(b"actual")):
        market.createJobs([forged], sender=requester)


def test_create_jobs_reverts_if_timeout_zero(market, requester, staked):
    with ape.reverts(market.JobMarketInvalidTimeout, index=0, timeout=0):
        market.createJobs([request(timeout=0)], sender=requester)


def test_create_jobs_reverts_if_audit_rate_above_one(market, requester, staked):
    with ape.reverts(market.JobMarketInvalidAuditRate, index=0, auditBps=10_001, baseAuditBps=0):
        market.createJobs([request(audit_bps=10_001)], sender=requester)


def test_create_jobs_reverts_if_audit_rate_below_base(deploy_market, credit, requester, funded):
    _, mkt = deploy_market(baseAuditBps=1_000)
    credit.approve(mkt, 2**256 - 1, sender=requester)
    with ape.reverts(mkt.JobMarketInvalidAuditRate, index=0, auditBps=500, baseAuditBps=1_000):
        mkt.createJobs([request(audit_bps=500)], sender=requester)
    # 0 means "the base rate", which costs no premium.
    tx = mkt.createJobs([request(audit_bps=0)], sender=requester)
    assert tx.decode_logs(mkt.JobCreated)[0].auditBps == 1_000
    assert credit.balanceOf(mkt) == PAYMENT


def test_create_jobs_reverts_if_allowance_insufficient(market, credit, requester, staked):
    credit.approve(market, PAYMENT - 1, sender=requester)
    with ape.reverts(credit.ERC20InsufficientAllowance, spender=market, allowance=PAYMENT - 1, needed=PAYMENT):
        market.createJobs([request()], sender=requester)


def test_create_jobs_reverts_if_balance_insufficient(market, credit, outsider, requester2, staked):
    balance = credit.balanceOf(outsider)
    credit.transfer(requester2, balance - 1, sender=outsider)
    with ape.reverts(credit.ERC20InsufficientBalance, sender=outsider, balance=1, needed=PAYMENT):
        market.createJobs([request()], sender=outsider)


def test_cancel_jobs_refunds_open_jobs_to_balance(proto, market, requester):
    job_id, _ = proto.create(requester, request(audit_bps=10_000))
    tx = market.cancelJobs([job_id], sender=requester)
    refund = PAYMENT + PAYMENT // 10
    assert tx.events == [
        market.JobCancelled(jobId=job_id, requester=requester),
        market.Credited(account=requester, jobId=job_id, amount=refund, reason=REFUND),
    ]
    assert market.getJob(job_id).status == CANCELLED
    assert market.balanceOf(requester) == refund


def test_cancel_jobs_reverts_if_not_requester(proto, market, requester, requester2):
    job_id, _ = proto.create(requester)
    with ape.reverts(market.JobMarketNotRequester, jobId=job_id, caller=requester2):
        market.cancelJobs([job_id], sender=requester2)


def test_cancel_jobs_reverts_if_taken(proto, market, requester, worker):
    job_id, _ = proto.create(requester)
    proto.take(worker, job_id)
    with ape.reverts(market.JobMarketInvalidStatus, jobId=job_id, status=2):
        market.cancelJobs([job_id], sender=requester)


def test_cancel_jobs_reverts_if_empty(market, requester, staked):
    with ape.reverts(market.JobMarketEmptyBatch):
        market.cancelJobs([], sender=requester)


def test_constructor_reverts_if_params_inconsistent(deploy_market, project):
    for bad in (
        {"protocolFeeBps": 6_000, "verifierFeeBps": 5_000},
        {"slashCheatedBps": 8_000, "slashVerifiersBps": 3_000},
        {"baseAuditBps": 10_001},
        {"challengeWindow": 0},
        {"verdictWindow": 0},
    ):
        with ape.reverts(project.JobMarket.JobMarketInvalidParams):
            deploy_market(**bad)


def test_getters_report_wiring_and_params(market, credit, registry, staking, treasury):
    assert market.credit() == credit
    assert market.registry() == registry
    assert market.staking() == staking
    params = market.params()
    assert params.treasury == treasury
    assert params.collateralBps == 20_000
    assert market.collateralFor(PAYMENT) == 2 * PAYMENT
