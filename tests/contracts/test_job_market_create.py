"""createBatches, requestCancel and cancelBatches, and the constructor's parameter checks."""

import ape
from eth_utils import keccak

from .helpers import (
    COLLATERAL,
    DIGITS_ID,
    EMBED_ID,
    FEE,
    MIN_PRICE,
    PRICE,
    TIMEOUT,
    BatchStatus,
    Reason,
    batch,
    job_id,
    job_input,
    market_params,
)

UNKNOWN_ID = keccak(b"not registered")


def test_create_batches_escrows_payment_and_emits_batch_created(proto, market, credit, requester):
    before = credit.balanceOf(requester)
    payloads = [b"The quick brown fox", b"jumps over the lazy dog"]
    batch_id, tx = proto.create(requester, batch(*payloads))
    assert batch_id == 1
    (event,) = tx.decode_logs(market.BatchCreated)
    assert (event.batchId, event.requester, event.modelId, event.price, event.timeout) == (
        1,
        requester.address,
        EMBED_ID,
        PRICE,
        TIMEOUT,
    )
    assert (event.auditBps, event.reopenOnExpiry) == (1_000, False)  # 0 asks for the base rate.
    assert [tuple(i) for i in event.inputs] == [(keccak(p), p, "") for p in payloads]
    assert credit.balanceOf(requester) == before - 2 * PRICE
    assert credit.balanceOf(market) == 2 * PRICE
    stored = market.getBatch(batch_id)
    assert (stored.requester, stored.price, stored.size, stored.status, stored.timeout) == (
        requester.address,
        PRICE,
        2,
        BatchStatus.OPEN,
        TIMEOUT,
    )
    assert market.jobIdOf(batch_id, 1) == job_id(batch_id, 1)
    assert market.nextBatchId() == 2


def test_create_batches_gives_the_requester_an_account_id_on_its_first_batch(proto, market, requester, requester2):
    assert market.accountId(requester) == 0
    _, first = proto.create(requester)
    assert first.events.filter(market.AccountRegistered) == [market.AccountRegistered(account=requester, id=1)]
    _, again = proto.create(requester)
    assert again.events.filter(market.AccountRegistered) == []
    _, other = proto.create(requester2)
    assert other.events.filter(market.AccountRegistered) == [market.AccountRegistered(account=requester2, id=2)]
    assert (market.accountId(requester), market.accountId(requester2)) == (1, 2)
    assert (market.accountOf(1), market.accountOf(2)) == (requester.address, requester2.address)
    assert market.accountOf(3) == market.accountOf(2**32) == ape.utils.ZERO_ADDRESS


def test_create_batches_with_uri_input_records_uri(proto, market, requester):
    _, tx = proto.create(requester, batch(inputs=[job_input(b"remote bytes", uri="https://example.org/in.bin")]))
    (event,) = tx.decode_logs(market.BatchCreated)
    assert tuple(event.inputs[0]) == (keccak(b"remote bytes"), b"", "https://example.org/in.bin")


def test_create_batches_several_models_with_one_transfer(proto, market, credit, requester):
    requests = [
        batch(*[b"in %d %d" % (m, i) for i in range(8)], model=m_id) for m, m_id in enumerate((EMBED_ID, DIGITS_ID))
    ]
    first, tx = proto.create(requester, *requests)
    assert [e.batchId for e in tx.decode_logs(market.BatchCreated)] == [first, first + 1]
    assert len(tx.decode_logs(credit.Transfer)) == 1
    assert credit.balanceOf(market) == 16 * PRICE


def test_create_batches_with_raised_audit_rate_escrows_premium(proto, market, credit, requester):
    before = credit.balanceOf(requester)
    batch_id, _ = proto.create(requester, batch(b"a", b"b", audit_bps=5_000))
    assert market.premiumFor(PRICE, 5_000) == FEE
    assert credit.balanceOf(requester) == before - 2 * (PRICE + FEE)
    assert market.getBatch(batch_id).auditBps == 5_000


def test_create_batches_reverts_if_no_batches_or_no_jobs(market, requester, staked):
    with ape.reverts(market.JobMarketEmptyInput):
        market.createBatches([], sender=requester)
    with ape.reverts(market.JobMarketInvalidBatchSize, index=1, size=0):
        market.createBatches([batch(), batch(inputs=[])], sender=requester)


def test_create_batches_reverts_if_batch_larger_than_max(market, requester, staked):
    with ape.reverts(market.JobMarketInvalidBatchSize, index=0, size=257):
        market.createBatches([batch(*[b"%d" % i for i in range(257)])], sender=requester)


def test_create_batches_reverts_if_price_below_model_minimum(market, requester, staked):
    with ape.reverts(market.JobMarketPriceTooLow, index=0, modelId=EMBED_ID, price=MIN_PRICE - 1, minPrice=MIN_PRICE):
        market.createBatches([batch(price=MIN_PRICE - 1)], sender=requester)


def test_create_batches_reverts_if_model_unknown(market, requester, staked):
    with ape.reverts(market.JobMarketUnknownModel, index=0, modelId=UNKNOWN_ID):
        market.createBatches([batch(model=UNKNOWN_ID)], sender=requester)


def test_create_batches_reverts_if_model_inactive(market, registry, owner, requester, staked):
    registry.setActive(DIGITS_ID, False, sender=owner)  # Sent to the market.
    with ape.reverts(market.JobMarketInactiveModel, index=0, modelId=DIGITS_ID):
        market.createBatches([batch(model=DIGITS_ID)], sender=requester)


def test_create_batches_checks_the_min_price_the_registry_last_sent(market, registry, owner, requester, staked):
    registry.setMinPrice(EMBED_ID, 2 * MIN_PRICE, sender=owner)
    with ape.reverts(market.JobMarketPriceTooLow, index=0, modelId=EMBED_ID, price=MIN_PRICE, minPrice=2 * MIN_PRICE):
        market.createBatches([batch(price=MIN_PRICE)], sender=requester)


def test_create_batches_reverts_if_input_too_large(market, requester, staked):
    with ape.reverts(market.JobMarketInputTooLarge, index=0, job=1, length=4097, maxLength=4096):
        market.createBatches([batch(b"ok", b"x" * 4097)], sender=requester)


def test_create_batches_reverts_if_input_and_uri_both_or_neither(market, requester, staked):
    both = (keccak(b"a"), b"a", "https://example.org/a")
    neither = (keccak(b""), b"", "")
    with ape.reverts(market.JobMarketInvalidInput, index=0, job=0):
        market.createBatches([batch(inputs=[both])], sender=requester)
    with ape.reverts(market.JobMarketInvalidInput, index=0, job=1):
        market.createBatches([batch(inputs=[job_input(), neither])], sender=requester)


def test_create_batches_reverts_if_inline_input_does_not_match_hash(market, requester, staked):
    forged = (keccak(b"claimed"), b"actual", "")
    with ape.reverts(
        market.JobMarketInputHashMismatch, index=0, job=0, inputHash=keccak(b"claimed"), actual=keccak(b"actual")
    ):
        market.createBatches([batch(inputs=[forged])], sender=requester)


def test_create_batches_reverts_if_timeout_zero(market, requester, staked):
    with ape.reverts(market.JobMarketInvalidTimeout, index=0):
        market.createBatches([batch(timeout=0)], sender=requester)


def test_create_batches_reverts_if_audit_rate_above_one(market, requester, staked):
    with ape.reverts(market.JobMarketInvalidAuditRate, index=0, auditBps=10_001, baseAuditBps=1_000):
        market.createBatches([batch(audit_bps=10_001)], sender=requester)


def test_create_batches_reverts_if_audit_rate_below_base(deploy_market, credit, requester, funded):
    _, mkt, _ = deploy_market()
    credit.approve(mkt, 2**256 - 1, sender=requester)
    with ape.reverts(mkt.JobMarketInvalidAuditRate, index=0, auditBps=500, baseAuditBps=1_000):
        mkt.createBatches([batch(audit_bps=500)], sender=requester)
    # 0 means "the base rate", which costs no premium.
    tx = mkt.createBatches([batch(audit_bps=0)], sender=requester)
    assert tx.decode_logs(mkt.BatchCreated)[0].auditBps == 1_000
    assert credit.balanceOf(mkt) == PRICE


def test_create_batches_reverts_if_allowance_insufficient(market, credit, requester, staked):
    credit.approve(market, PRICE - 1, sender=requester)
    with ape.reverts(credit.ERC20InsufficientAllowance, spender=market, allowance=PRICE - 1, needed=PRICE):
        market.createBatches([batch()], sender=requester)


def test_create_batches_reverts_if_balance_insufficient(market, credit, outsider, requester2, staked):
    credit.transfer(requester2, credit.balanceOf(outsider) - 1, sender=outsider)
    with ape.reverts(credit.ERC20InsufficientBalance, sender=outsider, balance=1, needed=PRICE):
        market.createBatches([batch()], sender=outsider)


def test_deposit_credits_balance_and_emits_deposited(market, credit, requester, staked):
    before = credit.balanceOf(requester)
    tx = market.deposit(3 * PRICE, sender=requester)
    assert tx.events.filter(market.Deposited) == [market.Deposited(account=requester, amount=3 * PRICE)]
    assert market.balanceOf(requester) == 3 * PRICE
    assert credit.balanceOf(requester) == before - 3 * PRICE
    assert credit.balanceOf(market) == 3 * PRICE


def test_deposit_reverts_if_zero(market, requester, staked):
    with ape.reverts(market.JobMarketZeroDeposit, account=requester):
        market.deposit(0, sender=requester)


def test_create_batches_pays_from_deposit_without_transfer(proto, market, credit, requester):
    market.deposit(5 * PRICE, sender=requester)
    wallet = credit.balanceOf(requester)
    _, tx = proto.create(requester, batch(b"a", b"b"))
    assert [e.paidFromBalance for e in tx.events.filter(market.BatchCreated)] == [2 * PRICE]
    assert tx.decode_logs(credit.Transfer) == []
    assert market.balanceOf(requester) == 3 * PRICE
    assert credit.balanceOf(requester) == wallet


def test_create_batches_pays_from_balance_batch_by_batch_in_order(proto, market, credit, requester):
    market.deposit(3 * PRICE, sender=requester)
    _, tx = proto.create(requester, batch(b"a", b"b"), batch(b"c", b"d"), batch(b"e"))
    assert [e.paidFromBalance for e in tx.events.filter(market.BatchCreated)] == [2 * PRICE, PRICE, 0]
    assert tx.events.filter(credit.Transfer) == [
        credit.Transfer(**{"from": requester, "to": market, "value": 2 * PRICE})
    ]
    assert market.balanceOf(requester) == 0


def test_create_batches_pays_rest_of_balance_by_transfer(proto, market, credit, requester):
    market.deposit(PRICE, sender=requester)
    wallet = credit.balanceOf(requester)
    _, tx = proto.create(requester, batch(b"a", b"b", b"c"))
    assert [e.paidFromBalance for e in tx.events.filter(market.BatchCreated)] == [PRICE]
    assert tx.events.filter(credit.Transfer) == [
        credit.Transfer(**{"from": requester, "to": market, "value": 2 * PRICE})
    ]
    assert market.balanceOf(requester) == 0
    assert credit.balanceOf(requester) == wallet - 2 * PRICE
    assert credit.balanceOf(market) == 3 * PRICE


def test_create_batches_spends_refund_before_wallet(proto, market, credit, requester):
    cancelled, _ = proto.create(requester, batch(b"a"))
    _cancel(proto, market, requester, cancelled)
    wallet = credit.balanceOf(requester)
    proto.create(requester, batch(b"b"))
    assert market.balanceOf(requester) == 0
    assert credit.balanceOf(requester) == wallet


def _cancel(proto, market, requester, batch_id):
    market.requestCancel([batch_id], sender=requester)
    proto.after(TIMEOUT)
    return market.cancelBatches([batch_id], sender=requester)


def test_cancel_batches_refunds_open_batches_to_balance_after_their_timeout(proto, market, requester):
    batch_id, _ = proto.create(requester, batch(b"a", b"b", audit_bps=10_000))
    tx = market.requestCancel([batch_id], sender=requester)
    cancel_at = tx.decode_logs(market.BatchCancelRequested)[0].cancelAt
    assert cancel_at == proto.chain.blocks.head.timestamp + TIMEOUT
    with ape.reverts(market.JobMarketDeadlineNotReached, id=batch_id, deadline=cancel_at):
        market.cancelBatches([batch_id], sender=requester)
    proto.after(TIMEOUT)
    tx = market.cancelBatches([batch_id], sender=requester)
    refund = 2 * (PRICE + FEE)
    assert tx.events == [
        market.BatchCancelled(batchId=batch_id, requester=requester),
        market.Credited(account=requester, batchId=batch_id, amount=refund, reason=Reason.REFUND),
    ]
    assert market.getBatch(batch_id).status == BatchStatus.CANCELLED
    assert market.balanceOf(requester) == refund


def test_a_worker_that_started_a_batch_commits_it_before_a_requested_cancel_lands(proto, market, requester, worker):
    """Finding 8: a requester cannot read an idle worker's outputs and cancel the batch."""
    batch_id, _ = proto.create(requester)
    market.requestCancel([batch_id], sender=requester)
    proto.commit(worker, [batch_id])  # The worker had computed it; its commit takes it on.
    proto.after(TIMEOUT)
    with ape.reverts(market.JobMarketInvalidBatchStatus, batchId=batch_id, status=BatchStatus.COMMITTED):
        market.cancelBatches([batch_id], sender=requester)


def test_cancel_batches_reverts_if_not_requested_or_requested_twice(proto, market, requester):
    batch_id, _ = proto.create(requester)
    with ape.reverts(market.JobMarketCancelNotRequested, batchId=batch_id):
        market.cancelBatches([batch_id], sender=requester)
    tx = market.requestCancel([batch_id], sender=requester)
    cancel_at = tx.decode_logs(market.BatchCancelRequested)[0].cancelAt
    with ape.reverts(market.JobMarketCancelPending, batchId=batch_id, cancelAt=cancel_at):
        market.requestCancel([batch_id], sender=requester)


def test_request_cancel_reverts_if_not_requester(proto, market, requester, requester2):
    batch_id, _ = proto.create(requester)
    with ape.reverts(market.JobMarketNotRequester, batchId=batch_id, caller=requester2):
        market.requestCancel([batch_id], sender=requester2)  # No account id yet.
    proto.create(requester2)
    with ape.reverts(market.JobMarketNotRequester, batchId=batch_id, caller=requester2):
        market.requestCancel([batch_id], sender=requester2)  # Another requester's id.


def test_request_cancel_reverts_if_taken(proto, market, requester, worker):
    batch_id, _ = proto.create(requester)
    proto.take(worker, batch_id)
    with ape.reverts(market.JobMarketInvalidBatchStatus, batchId=batch_id, status=BatchStatus.TAKEN):
        market.requestCancel([batch_id], sender=requester)


def test_cancel_calls_revert_if_empty(market, requester, staked):
    with ape.reverts(market.JobMarketEmptyInput):
        market.requestCancel([], sender=requester)
    with ape.reverts(market.JobMarketEmptyInput):
        market.cancelBatches([], sender=requester)


def test_constructor_reverts_if_params_inconsistent(deploy_market, project):
    for bad in (
        {"protocolFeeBps": 6_000, "verifierFeeBps": 5_000},
        {"slashCheatedBps": 8_000, "slashVerifiersBps": 3_000},
        {"baseAuditBps": 10_001},
        {"challengeWindow": 0},
        {"verdictWindow": 0},
        {"maxBatchSize": 0},
        {"panelSize": 2},
        {"panelSize": 16},
    ):
        with ape.reverts(project.JobMarket.JobMarketInvalidParams):
            deploy_market(**bad)


def test_constructor_refuses_parameters_under_which_cheating_pays(deploy_market, project):
    """Finding 6: the old defaults (collateral 2x the price, audits at 10%) let garbage win. A
    garbage job is caught with probability 10% x 75% (an honest auditor) x 84.375% (an honest
    panel): 632 basis points."""
    with ape.reverts(
        project.JobMarket.JobMarketUnsafeParams, detectionBps=632, workerShareBps=9_500, collateralBps=20_000
    ):
        deploy_market(collateralBps=20_000)
    with ape.reverts(
        project.JobMarket.JobMarketUnsafeParams, detectionBps=0, workerShareBps=9_500, collateralBps=150_000
    ):
        deploy_market(baseAuditBps=0)
    # The boundary: 632 * (9500 + c) must exceed 10000 * 9500, so c = 140,817 is the least.
    with ape.reverts(project.JobMarket.JobMarketUnsafeParams):
        deploy_market(collateralBps=140_816)
    deploy_market(collateralBps=140_817)


def test_constructor_refuses_a_panel_colluders_could_capture_often_enough_to_pay(deploy_market, project):
    """Finding 1: with every job audited, a collateral of 0.6 of the price is enough against
    garbage, but a false accusation against a panel of three would pay; five seats make it lose."""
    # A quarter of the stake fills two of three seats with probability 3 (1/4)^2 (3/4) + (1/4)^3.
    capture = 156_250_000_000_000_000
    with ape.reverts(project.JobMarket.JobMarketCapturablePanel, panelSize=3, captureWad=capture):
        deploy_market(baseAuditBps=10_000, collateralBps=6_000)
    deploy_market(baseAuditBps=10_000, collateralBps=6_000, panelSize=5)


def test_getters_report_wiring_and_params(market, credit, registry, staking, treasury):
    assert market.credit() == credit
    assert market.registry() == registry
    assert market.staking() == staking
    params = market.params()
    # The parameters are immutables; the getter rebuilds the struct, field by field.
    assert tuple(params) == market_params(treasury)
    assert params.treasury == treasury
    assert params.collateralBps == 150_000
    assert market.collateralFor(PRICE) == COLLATERAL
