"""expireBatches, finalizeBatches, multicall and withdraw."""

import ape
from ape.utils import ZERO_ADDRESS

from .helpers import (
    COLLATERAL,
    CREDIT,
    FEE,
    PRICE,
    PROTOCOL,
    TIMEOUT,
    WINDOW,
    WORKER,
    AuditStatus,
    BatchStatus,
    Reason,
    batch,
    expected_audit,
    job_id,
    output_hashes,
)

# -------------------------------------------------------------- expireBatches


def test_expire_batches_slashes_worker_and_refunds_requester(
    proto, market, staking, requester, worker, treasury, outsider
):
    batch_id, _ = proto.create(requester, batch(b"a", b"b"))
    proto.take(worker, batch_id)
    proto.after(TIMEOUT)
    tx = market.expireBatches([batch_id], sender=outsider)
    slashed = 2 * COLLATERAL
    assert tx.events.filter(market.BatchTimedOut) == [
        market.BatchTimedOut(batchId=batch_id, worker=worker, reopened=False)
    ]
    assert tx.events.filter(market.PartySlashed) == [
        market.PartySlashed(batchId=batch_id, account=worker, role=WORKER, amount=slashed)
    ]
    assert tx.events.filter(market.Credited) == [
        market.Credited(account=requester, batchId=batch_id, amount=slashed // 2, reason=Reason.SLASH_SHARE),
        market.Credited(account=treasury, batchId=batch_id, amount=slashed // 2, reason=Reason.SLASH_SHARE),
        market.Credited(account=requester, batchId=batch_id, amount=2 * PRICE, reason=Reason.REFUND),
    ]
    assert market.getBatch(batch_id).status == BatchStatus.EXPIRED
    stake = staking.getStake(worker, WORKER)
    assert (stake.amount, stake.locked) == (1_000 * CREDIT - slashed, 0)


def test_expire_batches_reopens_batch_if_requester_chose_reopen(proto, market, requester, worker, worker2, outsider):
    batch_id, _ = proto.create(requester, batch(reopen=True))
    proto.take(worker, batch_id)
    proto.after(TIMEOUT)
    tx = market.expireBatches([batch_id], sender=outsider)
    assert market.BatchTimedOut(batchId=batch_id, worker=worker, reopened=True) in tx.events
    stored = market.getBatch(batch_id)
    assert (stored.status, stored.worker) == (BatchStatus.OPEN, ape.utils.ZERO_ADDRESS)
    assert market.balanceOf(requester) == COLLATERAL // 2  # Slash share, no refund: the batch lives on.
    proto.take(worker2, batch_id)
    assert market.getBatch(batch_id).worker == worker2


def test_expire_batches_reverts_if_deadline_not_reached(proto, market, requester, worker, outsider):
    batch_id, _ = proto.create(requester)
    proto.take(worker, batch_id)
    deadline = market.getBatch(batch_id).deadline
    with ape.reverts(market.JobMarketDeadlineNotReached, id=batch_id, deadline=deadline):
        market.expireBatches([batch_id], sender=outsider)


def test_expire_batches_reverts_if_committed(proto, market, requester, worker, outsider):
    batch_id = proto.committed_batch(requester, worker)
    proto.after(TIMEOUT)
    with ape.reverts(market.JobMarketInvalidBatchStatus, batchId=batch_id, status=BatchStatus.COMMITTED):
        market.expireBatches([batch_id], sender=outsider)


def test_slash_below_minimum_deregisters_worker(proto, market, staking, requester, worker, outsider):
    big = 16 * CREDIT  # Two batches of two jobs: collateral 960 of the 1,000 staked.
    first, _ = proto.create(requester, batch(b"a", b"b", price=big), batch(b"c", b"d", price=big))
    proto.take(worker, first, first + 1)
    proto.after(TIMEOUT)
    tx = market.expireBatches([first, first + 1], sender=outsider)
    assert staking.Deregistered(account=worker, role=WORKER) in tx.events
    assert not staking.isActive(worker, WORKER)
    assert staking.getStake(worker, WORKER).amount == 40 * CREDIT


# ------------------------------------------------------------ finalizeBatches


def test_finalize_batches_pays_worker_minus_protocol_fee(proto, market, staking, requester, worker, treasury, outsider):
    batch_id = proto.unaudited_batch(requester, worker, b"a", b"b", b"c")
    proto.after(WINDOW)
    worker_before, treasury_before = market.balanceOf(worker), market.balanceOf(treasury)
    locked = staking.getStake(worker, WORKER).locked  # With the tries `unaudited_batch` made.
    tx = market.finalizeBatches([batch_id], sender=outsider)
    assert tx.events.filter(market.BatchDrawn) == []  # Drawn here, nothing audited: BatchFinalized says so.
    payment, fee = 3 * (PRICE - PROTOCOL), 3 * PROTOCOL
    assert tx.events.filter(market.BatchFinalized) == [
        market.BatchFinalized(batchId=batch_id, worker=worker, paidJobs=3, workerPayment=payment, protocolFee=fee)
    ]
    assert tx.events.filter(market.Credited) == []  # BatchFinalized is the record of both.
    assert market.balanceOf(worker) == worker_before + payment
    assert market.feesOwed(worker) == fee  # Owed to the treasury until `collectFees`.
    assert market.balanceOf(treasury) == treasury_before
    assert market.getBatch(batch_id).status == BatchStatus.FINALIZED
    assert staking.getStake(worker, WORKER).locked == locked - 3 * COLLATERAL


def test_collect_fees_credits_owed_fees_to_treasury_and_skips_accounts_owing_nothing(
    proto, market, requester, worker, worker2, treasury, outsider
):
    first = proto.unaudited_batch(requester, worker, b"a", b"b")
    second = proto.unaudited_batch(requester, worker2, b"c")
    proto.after(WINDOW)
    market.finalizeBatches([first, second], sender=outsider)
    assert (market.feesOwed(worker), market.feesOwed(worker2)) == (2 * PROTOCOL, PROTOCOL)
    before = market.balanceOf(treasury)

    tx = market.collectFees([worker, outsider, worker2], sender=outsider)

    assert tx.events == [
        market.FeesCollected(account=worker, amount=2 * PROTOCOL),
        market.FeesCollected(account=worker2, amount=PROTOCOL),
    ]
    assert market.balanceOf(treasury) == before + 3 * PROTOCOL
    assert market.feesOwed(worker) == market.feesOwed(worker2) == 0


def test_collect_fees_reverts_if_no_accounts(market, outsider):
    with ape.reverts(market.JobMarketEmptyInput):
        market.collectFees([], sender=outsider)


def test_finalize_batches_of_several_workers_pays_each_its_own(proto, market, requester, worker, worker2):
    # Finalized by one of the workers: its own batches skip the address lookup, the other's not.
    ids = [
        proto.unaudited_batch(requester, worker, b"a"),
        proto.unaudited_batch(requester, worker2, b"b", b"c"),
        proto.unaudited_batch(requester, worker, b"d"),
    ]
    proto.after(WINDOW)
    before = {w: market.balanceOf(w) for w in (worker, worker2)}
    tx = market.finalizeBatches(ids, sender=worker)
    paid = [(e.batchId, e.worker, e.paidJobs) for e in tx.decode_logs(market.BatchFinalized)]
    assert paid == [(ids[0], worker.address, 1), (ids[1], worker2.address, 2), (ids[2], worker.address, 1)]
    assert market.balanceOf(worker) == before[worker] + 2 * (PRICE - PROTOCOL)
    assert market.balanceOf(worker2) == before[worker2] + 2 * (PRICE - PROTOCOL)


def test_finalize_batches_refunds_unused_premium(proto, market, chain, requester, worker, outsider):
    for _ in range(30):  # A batch at a raised rate whose draw misses.
        batch_id = proto.committed_batch(requester, worker, audit_bps=5_000)
        if not expected_audit(chain, market.getBatch(batch_id).seedBlock, job_id(batch_id), 5_000):
            break
    proto.after(WINDOW)
    before = market.balanceOf(requester)
    tx = market.finalizeBatches([batch_id], sender=outsider)
    assert market.BatchFinalized(batchId=batch_id, worker=worker, paidJobs=1) in tx.events
    assert market.Credited(account=requester, batchId=batch_id, amount=FEE, reason=Reason.REFUND) in tx.events
    assert market.balanceOf(requester) == before + FEE


def test_finalize_batches_hands_selected_jobs_to_the_game_and_pays_after_their_audits(
    proto, market, game, staking, chain, requester, worker, verifiers, outsider
):
    batch_id, _ = proto.create(requester, batch(*[b"job %d" % i for i in range(8)], audit_bps=5_000))
    proto.take(worker, batch_id)
    seed_block = proto.commit(worker, [batch_id]).block_number + 1
    proto.after(WINDOW)
    tx = market.finalizeBatches([batch_id], sender=outsider)
    jobs = [job_id(batch_id, i) for i in range(8)]
    expected = [j for j in jobs if expected_audit(chain, seed_block, j, 5_000)]
    if not expected:  # 2**-8: nothing to hand over; the batch was paid.
        assert market.BatchFinalized(batchId=batch_id, worker=worker, paidJobs=8) in tx.events
        return
    assert tx.events.filter(game.AuditsDrawn) == [game.AuditsDrawn(batchId=batch_id, jobIds=expected)]
    assert tx.events.filter(market.BatchFinalized) == []
    assert market.getBatch(batch_id).status == BatchStatus.AUDITED
    with ape.reverts(market.JobMarketAuditsOpen, batchId=batch_id, open=len(expected), challengeableUntil=0):
        market.finalizeBatches([batch_id], sender=outsider)
    tx = game.drawVerifiers(expected, sender=outsider)
    for assigned in tx.decode_logs(game.AuditAssigned):
        auditor = next(v for v in verifiers if v.address == assigned.verifier)
        game.submitVerdict(assigned.jobId, True, b"\x01" * 32, sender=auditor)
    assert all(game.getAudit(j).status == AuditStatus.ACCEPTED for j in expected)
    proto.after(WINDOW)
    tx = market.finalizeBatches([batch_id], sender=outsider)
    payment = 8 * (PRICE - PROTOCOL)
    assert market.BatchFinalized(batchId=batch_id, worker=worker, paidJobs=8, workerPayment=payment) in tx.events
    assert market.getBatch(batch_id).status == BatchStatus.FINALIZED  # Kept: its audits point at it.
    assert staking.getStake(worker, WORKER).locked == 0


def test_finalize_batches_clears_a_batch_with_no_audited_job_and_views_report_it_finalized(
    proto, market, game, requester, worker, outsider
):
    batch_id = proto.unaudited_batch(requester, worker, b"a", b"b")
    proto.after(WINDOW)
    tx = market.finalizeBatches([batch_id], sender=outsider)
    # The record left storage (its gas refunded); the views still tell a finalized batch from
    # one that never was.
    record = market.getBatch(batch_id)
    assert record.status == BatchStatus.FINALIZED and (record.requester, record.size) == (ZERO_ADDRESS, 0)
    assert market.getBatch(batch_id + 1).status == BatchStatus.NONE
    assert tx.events.filter(market.BatchFinalized)[0].paidJobs == 2
    with ape.reverts(market.JobMarketInvalidBatchStatus, batchId=batch_id, status=BatchStatus.FINALIZED):
        market.finalizeBatches([batch_id], sender=outsider)
    with ape.reverts(market.JobMarketInvalidBatchStatus, batchId=batch_id, status=BatchStatus.FINALIZED):
        market.requestCancel([batch_id], sender=requester)
    with ape.reverts(game.GameNotChallengeable, jobId=job_id(batch_id)):
        game.challenge(job_id(batch_id), b"\x01" * 32, sender=outsider)


def test_finalize_batches_reverts_if_window_open(proto, market, requester, worker, outsider):
    batch_id = proto.committed_batch(requester, worker)
    deadline = market.getBatch(batch_id).deadline
    with ape.reverts(market.JobMarketDeadlineNotReached, id=batch_id, deadline=deadline):
        market.finalizeBatches([batch_id], sender=outsider)


def test_finalize_batches_reverts_if_not_committed(proto, market, requester, worker, outsider):
    batch_id, _ = proto.create(requester)
    proto.take(worker, batch_id)
    with ape.reverts(market.JobMarketInvalidBatchStatus, batchId=batch_id, status=BatchStatus.TAKEN):
        market.finalizeBatches([batch_id], sender=outsider)


def test_finalize_batches_reverts_if_empty(market, outsider, staked):
    with ape.reverts(market.JobMarketEmptyInput):
        market.finalizeBatches([], sender=outsider)


# ------------------------------------------------------------------ multicall


def test_multicall_commits_and_finalizes_in_one_transaction_as_the_caller(
    proto, market, staking, chain, requester, worker
):
    done = proto.unaudited_batch(requester, worker)
    proto.after(WINDOW)
    new, _ = proto.create(requester)
    calls = [
        market.commitResults.encode_input([new], [output_hashes(new, 1)]),
        market.finalizeBatches.encode_input([done]),
    ]
    before_locked = staking.getStake(worker, WORKER).locked
    before_balance = market.balanceOf(worker)
    tx = market.multicall(calls, sender=worker)
    now = chain.blocks[tx.block_number].timestamp
    assert tx.events.filter(market.ResultsCommitted) == [
        market.ResultsCommitted(
            batchId=new,
            worker=worker,
            outputHashes=output_hashes(new, 1),
            seedBlock=tx.block_number + 1,
            challengeDeadline=now + WINDOW,
        )
    ]
    assert tx.events.filter(market.BatchFinalized) == [
        market.BatchFinalized(batchId=done, worker=worker, paidJobs=1, workerPayment=PRICE - PROTOCOL)
    ]
    assert (market.getBatch(new).status, market.getBatch(done).status) == (
        BatchStatus.COMMITTED,
        BatchStatus.FINALIZED,
    )
    assert market.balanceOf(worker) == before_balance + PRICE - PROTOCOL
    # The new batch's is locked, the old one's released (the tries of `unaudited_batch` keep theirs).
    assert staking.getStake(worker, WORKER).locked == before_locked


def test_multicall_reverts_every_call_with_the_failing_calls_error(proto, market, requester, worker):
    pending = proto.unaudited_batch(requester, worker)
    deadline = market.getBatch(pending).deadline
    new, _ = proto.create(requester)
    calls = [
        market.commitResults.encode_input([new], [output_hashes(new, 1)]),
        market.finalizeBatches.encode_input([pending]),
    ]
    with ape.reverts(market.JobMarketDeadlineNotReached, id=pending, deadline=deadline):
        market.multicall(calls, sender=worker)
    assert market.getBatch(new).status == BatchStatus.OPEN


# ------------------------------------------------------------------- withdraw


def test_withdraw_transfers_balance_and_zeroes_it(proto, market, credit, requester, worker, outsider):
    batch_id = proto.unaudited_batch(requester, worker)
    proto.after(WINDOW)
    market.finalizeBatches([batch_id], sender=outsider)
    earned = market.balanceOf(worker)
    before = credit.balanceOf(worker)
    tx = market.withdraw(sender=worker)
    assert market.Withdrawn(account=worker, amount=earned) in tx.events
    assert credit.balanceOf(worker) == before + earned
    assert market.balanceOf(worker) == 0


def test_withdraw_reverts_if_nothing_to_withdraw(market, outsider):
    with ape.reverts(market.JobMarketNothingToWithdraw, account=outsider):
        market.withdraw(sender=outsider)
