"""takeBatches, commitResults, expireBatches, drawAudits, finalizeBatches, multicall and withdraw."""

import ape
from eth_abi import encode
from eth_utils import keccak

from .helpers import (
    COLLATERAL,
    CREDIT,
    FEE,
    PRICE,
    PROTOCOL,
    TIMEOUT,
    VERIFIER,
    WINDOW,
    WORKER,
    AuditStatus,
    BatchStatus,
    JobStatus,
    Reason,
    batch,
    job_id,
    output_hashes,
)

# ---------------------------------------------------------------- takeBatches


def test_take_batches_assigns_worker_and_locks_collateral_for_every_job(
    proto, market, staking, chain, requester, worker
):
    first, _ = proto.create(requester, batch(b"a", b"b", b"c"), batch(b"d"))
    tx = proto.take(worker, first, first + 1)
    now = chain.blocks[tx.block_number].timestamp
    assert tx.events.filter(market.BatchTaken) == [
        market.BatchTaken(batchId=first, worker=worker, deadline=now + TIMEOUT, collateral=3 * COLLATERAL),
        market.BatchTaken(batchId=first + 1, worker=worker, deadline=now + TIMEOUT, collateral=COLLATERAL),
    ]
    assert market.lockedOf(worker, WORKER) == 4 * COLLATERAL
    assert staking.getStake(worker, WORKER).locked == 4 * COLLATERAL  # Staking reports the market's lock.
    stored = market.getBatch(first)
    assert (stored.worker, stored.status, stored.deadline) == (worker.address, BatchStatus.TAKEN, now + TIMEOUT)
    assert market.jobStatus(job_id(first, 2)) == JobStatus.TAKEN


def test_take_batches_reverts_if_not_registered_worker(proto, market, requester, outsider):
    batch_id, _ = proto.create(requester)
    with ape.reverts(market.JobMarketNotRegistered, account=outsider, role=WORKER):
        proto.take(outsider, batch_id)


def test_take_batches_reverts_if_already_taken(proto, market, requester, worker, worker2):
    batch_id, _ = proto.create(requester)
    proto.take(worker, batch_id)
    with ape.reverts(market.JobMarketInvalidBatchStatus, batchId=batch_id, status=BatchStatus.TAKEN):
        proto.take(worker2, batch_id)


def test_take_batches_reverts_if_unknown(market, worker, staked):
    with ape.reverts(market.JobMarketInvalidBatchStatus, batchId=99, status=BatchStatus.NONE):
        market.takeBatches([99], sender=worker)


def test_take_batches_reverts_if_free_stake_insufficient(proto, market, requester, worker):
    big = 200 * CREDIT  # Collateral 400 per job; two jobs take 800 of the 1,000-credit stake.
    first, _ = proto.create(requester, batch(b"a", b"b", price=big), batch(b"c", price=big))
    proto.take(worker, first)
    with ape.reverts(
        market.JobMarketInsufficientFreeStake, account=worker, role=WORKER, required=2 * big, available=200 * CREDIT
    ):
        proto.take(worker, first + 1)


def test_take_batches_reverts_if_empty(market, worker, staked):
    with ape.reverts(market.JobMarketInvalidBatchSize, index=0, size=0):
        market.takeBatches([], sender=worker)


# ------------------------------------------------------------- commitResults


def test_commit_results_emits_hashes_and_seed_block(proto, market, chain, requester, worker):
    batch_id, _ = proto.create(requester, batch(b"a", b"b"))
    proto.take(worker, batch_id)
    hashes = output_hashes(batch_id, 2)
    tx = proto.commit(worker, [batch_id], [hashes])
    now = chain.blocks[tx.block_number].timestamp
    assert tx.events == [
        market.ResultsCommitted(
            batchId=batch_id,
            worker=worker,
            outputHashes=hashes,
            seedBlock=tx.block_number + 1,
            challengeDeadline=now + WINDOW,
        )
    ]
    stored = market.getBatch(batch_id)
    assert (stored.status, stored.seedBlock, stored.deadline) == (
        BatchStatus.COMMITTED,
        tx.block_number + 1,
        now + WINDOW,
    )


def test_commit_results_reverts_if_not_the_worker(proto, market, requester, worker, worker2):
    batch_id, _ = proto.create(requester)
    proto.take(worker, batch_id)
    with ape.reverts(market.JobMarketNotWorker, batchId=batch_id, caller=worker2):
        proto.commit(worker2, [batch_id])


def test_commit_results_reverts_if_deadline_passed(proto, market, requester, worker):
    batch_id, _ = proto.create(requester)
    proto.take(worker, batch_id)
    deadline = market.getBatch(batch_id).deadline
    proto.after(TIMEOUT)
    with ape.reverts(market.JobMarketDeadlinePassed, id=batch_id, deadline=deadline):
        proto.commit(worker, [batch_id])


def test_commit_results_reverts_if_zero_hash(proto, market, requester, worker):
    batch_id, _ = proto.create(requester, batch(b"a", b"b"))
    proto.take(worker, batch_id)
    with ape.reverts(market.JobMarketZeroOutputHash, batchId=batch_id, index=1):
        proto.commit(worker, [batch_id], [[keccak(b"ok"), b"\x00" * 32]])


def test_commit_results_reverts_if_hash_count_differs_from_batch_size(proto, market, requester, worker):
    batch_id, _ = proto.create(requester, batch(b"a", b"b"))
    proto.take(worker, batch_id)
    with ape.reverts(market.JobMarketLengthMismatch, batchId=batch_id, expected=2, actual=1):
        proto.commit(worker, [batch_id], [[keccak(b"a")]])
    with ape.reverts(market.JobMarketLengthMismatch, batchId=0, expected=1, actual=2):
        market.commitResults([batch_id], [[keccak(b"a")], [keccak(b"b")]], sender=worker)


def test_commit_results_takes_an_open_batch_on_and_commits_it_in_one_transaction(
    proto, market, staking, chain, requester, worker
):
    open_id, _ = proto.create(requester, batch(b"a", b"b"))
    taken_id, _ = proto.create(requester)
    proto.take(worker, taken_id)
    hashes = [output_hashes(open_id, 2), output_hashes(taken_id, 1)]
    tx = proto.commit(worker, [open_id, taken_id], hashes)
    now = chain.blocks[tx.block_number].timestamp
    assert tx.events.filter(market.BatchTaken) == []  # Taken on in the commit: no take deadline to report.
    assert [(e.batchId, e.worker) for e in tx.events.filter(market.ResultsCommitted)] == [
        (open_id, worker.address),
        (taken_id, worker.address),
    ]
    assert market.lockedOf(worker, WORKER) == 3 * COLLATERAL
    assert staking.getStake(worker, WORKER).locked == 3 * COLLATERAL
    stored = market.getBatch(open_id)
    assert (stored.worker, stored.status, stored.seedBlock, stored.deadline) == (
        worker.address,
        BatchStatus.COMMITTED,
        tx.block_number + 1,
        now + WINDOW,
    )


def test_commit_results_reverts_for_an_open_batch_if_not_registered_worker(proto, market, requester, outsider):
    batch_id, _ = proto.create(requester)
    with ape.reverts(market.JobMarketNotRegistered, account=outsider, role=WORKER):
        proto.commit(outsider, [batch_id])
    assert market.accountId(outsider) == 0  # The reverted commit gave it no id.


def test_take_or_commit_gives_the_worker_an_account_id_on_its_first_batch(proto, market, requester, worker, worker2):
    first, _ = proto.create(requester, batch(b"a"), batch(b"b"))
    taken = proto.take(worker, first)
    assert taken.events.filter(market.AccountRegistered) == [market.AccountRegistered(account=worker, id=2)]
    committed = proto.commit(worker2, [first + 1])
    assert committed.events.filter(market.AccountRegistered) == [market.AccountRegistered(account=worker2, id=3)]
    assert proto.commit(worker, [first]).events.filter(market.AccountRegistered) == []
    assert (market.getBatch(first).worker, market.getBatch(first + 1).worker) == (worker.address, worker2.address)


def test_commit_results_reverts_if_already_committed(proto, market, requester, worker, worker2):
    batch_id, _ = proto.create(requester)
    proto.commit(worker, [batch_id])
    with ape.reverts(market.JobMarketInvalidBatchStatus, batchId=batch_id, status=BatchStatus.COMMITTED):
        proto.commit(worker2, [batch_id])


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
    assert market.jobStatus(job_id(batch_id)) == JobStatus.EXPIRED
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
    first, _ = proto.create(requester, batch(b"a", b"b", price=240 * CREDIT))  # Collateral 960 of 1,000.
    proto.take(worker, first)
    proto.after(TIMEOUT)
    tx = market.expireBatches([first], sender=outsider)
    assert staking.Deregistered(account=worker, role=WORKER) in tx.events
    assert not staking.isActive(worker, WORKER)
    assert staking.getStake(worker, WORKER).amount == 40 * CREDIT


# ----------------------------------------------------------------- drawAudits


def _expected_audit(chain, seed_block: int, job: int, audit_bps: int) -> bool:
    seed = chain.blocks[seed_block].hash
    roll = int.from_bytes(keccak(encode(["bytes32", "uint256"], [seed, job])), "big") % 10_000
    return roll < audit_bps


def test_draw_audits_follows_blockhash_of_seed_block(proto, market, chain, requester, worker, outsider):
    batch_id, _ = proto.create(requester, batch(*[b"job %d" % i for i in range(24)], audit_bps=5_000))
    proto.take(worker, batch_id)
    commit = proto.commit(worker, [batch_id])
    chain.mine(1)
    tx = market.drawAudits([batch_id], sender=outsider)
    jobs = [job_id(batch_id, i) for i in range(24)]
    expected = {j for j in jobs if _expected_audit(chain, commit.block_number + 1, j, 5_000)}
    assert {e.jobId for e in tx.decode_logs(market.AuditAssigned)} == expected
    assert tx.events.filter(market.AuditsDrawn) == [market.AuditsDrawn(batchId=batch_id, audited=len(expected))]
    assert 0 < len(expected) < 24  # 24 fair coins: P(all equal) = 2**-23.
    assert market.auditedJobs(batch_id) == len(expected)
    assert market.getBatch(batch_id).status == BatchStatus.DRAWN
    for j in jobs:
        assert market.jobStatus(j) == (JobStatus.AUDITED if j in expected else JobStatus.UNAUDITED)


def test_draw_audits_assigns_a_staked_verifier_other_than_worker(proto, market, staking, requester, worker, verifiers):
    job, verifier = proto.audited_job(requester, worker)
    assert verifier in {v.address for v in verifiers}
    audit = market.getAudit(job)
    assert audit.status == AuditStatus.ASSIGNED
    assert list(market.jobVerifiers(job)) == [verifier]
    assert staking.getStake(verifier, VERIFIER).locked == COLLATERAL


def test_draw_audits_selects_nothing_at_rate_zero(proto, market, requester, worker):
    batch_id = proto.committed_batch(requester, worker, b"a", b"b")
    tx = market.drawAudits([batch_id], sender=worker)
    assert tx.events == [market.AuditsDrawn(batchId=batch_id, audited=0)]
    assert market.jobStatus(job_id(batch_id, 1)) == JobStatus.UNAUDITED


def test_draw_audits_reverts_if_seed_block_not_mined(proto, market, requester, worker, outsider):
    batch_id, _ = proto.create(requester, batch(audit_bps=10_000))
    proto.take(worker, batch_id)
    commit = proto.commit(worker, [batch_id])
    # With automine, the draw transaction itself is mined in the seed block.
    with ape.reverts(market.JobMarketSeedPending, batchId=batch_id, seedBlock=commit.block_number + 1):
        market.drawAudits([batch_id], sender=outsider)


def test_draw_audits_rearms_seed_out_of_blockhash_reach(proto, market, chain, requester, worker, outsider):
    batch_id, _ = proto.create(requester, batch(audit_bps=10_000))
    proto.take(worker, batch_id)
    proto.commit(worker, [batch_id])
    chain.mine(300)
    tx = market.drawAudits([batch_id], sender=outsider)
    assert tx.events == [market.AuditSeedRearmed(batchId=batch_id, seedBlock=tx.block_number + 1)]
    assert market.getBatch(batch_id).status == BatchStatus.COMMITTED  # Never unaudited by default.
    chain.mine(1)
    tx = market.drawAudits([batch_id], sender=outsider)
    assert len(tx.decode_logs(market.AuditAssigned)) == 1


def test_draw_audits_reports_unavailable_if_only_the_worker_verifies(
    proto, market, staking, requester, worker, verifiers
):
    staking.stake(VERIFIER, 1_000 * CREDIT, "", sender=worker)
    for v in verifiers:
        staking.requestExit(VERIFIER, sender=v)
    batch_id = proto.committed_batch(requester, worker, audit_bps=10_000)
    tx = market.drawAudits([batch_id], sender=worker)
    assert tx.events == [
        market.AuditUnavailable(jobId=job_id(batch_id)),
        market.AuditsDrawn(batchId=batch_id, audited=0),
    ]
    assert market.jobStatus(job_id(batch_id)) == JobStatus.UNAUDITED


def test_draw_audits_reverts_if_not_committed(proto, market, requester, worker):
    batch_id, _ = proto.create(requester)
    with ape.reverts(market.JobMarketInvalidBatchStatus, batchId=batch_id, status=BatchStatus.OPEN):
        market.drawAudits([batch_id], sender=worker)


# ------------------------------------------------------------ finalizeBatches


def test_finalize_batches_pays_worker_minus_protocol_fee(proto, market, staking, requester, worker, treasury, outsider):
    batch_id = proto.committed_batch(requester, worker, b"a", b"b", b"c")
    proto.after(WINDOW)
    worker_before, treasury_before = market.balanceOf(worker), market.balanceOf(treasury)
    tx = market.finalizeBatches([batch_id], sender=outsider)
    assert market.AuditsDrawn(batchId=batch_id, audited=0) in tx.events
    payment, fee = 3 * (PRICE - PROTOCOL), 3 * PROTOCOL
    assert tx.events.filter(market.BatchFinalized) == [
        market.BatchFinalized(batchId=batch_id, worker=worker, paidJobs=3, workerPayment=payment, protocolFee=fee)
    ]
    assert tx.events.filter(market.Credited) == []  # BatchFinalized is the record of both credits.
    assert market.balanceOf(worker) == worker_before + payment
    assert market.balanceOf(treasury) == treasury_before + fee
    assert market.getBatch(batch_id).status == BatchStatus.FINALIZED
    assert market.jobStatus(job_id(batch_id, 2)) == JobStatus.FINALIZED
    assert staking.getStake(worker, WORKER).locked == 0


def test_finalize_batches_of_several_workers_pays_each_its_own(proto, market, requester, worker, worker2):
    # Finalized by one of the workers: its own batches skip the address lookup, the other's not.
    first, _ = proto.create(requester, batch(b"a"), batch(b"b", b"c"), batch(b"d"))
    ids = [first, first + 1, first + 2]
    proto.take(worker, first, first + 2)
    proto.take(worker2, first + 1)
    proto.commit(worker, [first, first + 2])
    proto.commit(worker2, [first + 1])
    proto.after(WINDOW)
    before = {w: market.balanceOf(w) for w in (worker, worker2)}
    tx = market.finalizeBatches(ids, sender=worker)
    paid = [(e.batchId, e.worker, e.paidJobs) for e in tx.decode_logs(market.BatchFinalized)]
    assert paid == [(first, worker.address, 1), (first + 1, worker2.address, 2), (first + 2, worker.address, 1)]
    assert market.balanceOf(worker) == before[worker] + 2 * (PRICE - PROTOCOL)
    assert market.balanceOf(worker2) == before[worker2] + 2 * (PRICE - PROTOCOL)
    assert market.lockedOf(worker, WORKER) == market.lockedOf(worker2, WORKER) == 0


def test_finalize_batches_refunds_unused_premium(proto, market, chain, requester, worker, outsider):
    batch_id, _ = proto.create(requester, batch(audit_bps=5_000))
    proto.take(worker, batch_id)
    seed_block = proto.commit(worker, [batch_id]).block_number + 1
    chain.mine(1)
    # Re-arm the seed (by letting it fall out of blockhash reach) until the draw misses.
    while _expected_audit(chain, seed_block, job_id(batch_id), 5_000):
        chain.mine(257)
        rearm = market.drawAudits([batch_id], sender=outsider)
        seed_block = rearm.decode_logs(market.AuditSeedRearmed)[0].seedBlock
        chain.mine(1)
    proto.after(WINDOW)
    tx = market.finalizeBatches([batch_id], sender=outsider)
    assert market.AuditsDrawn(batchId=batch_id, audited=0) in tx.events
    assert market.Credited(account=requester, batchId=batch_id, amount=FEE, reason=Reason.REFUND) in tx.events
    assert market.balanceOf(requester) == FEE


def test_finalize_batches_pays_only_jobs_not_under_audit(proto, market, staking, chain, requester, worker, outsider):
    batch_id, _ = proto.create(requester, batch(*[b"job %d" % i for i in range(24)], audit_bps=5_000))
    proto.take(worker, batch_id)
    seed_block = proto.commit(worker, [batch_id]).block_number + 1
    proto.after(WINDOW)
    tx = market.finalizeBatches([batch_id], sender=outsider)
    expected = [i for i in range(24) if _expected_audit(chain, seed_block, job_id(batch_id, i), 5_000)]
    assert [e.jobId for e in tx.decode_logs(market.AuditAssigned)] == [job_id(batch_id, i) for i in expected]
    (finalized,) = tx.decode_logs(market.BatchFinalized)
    assert finalized.paidJobs == 24 - len(expected)
    assert staking.getStake(worker, WORKER).locked == len(expected) * COLLATERAL


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
    with ape.reverts(market.JobMarketInvalidBatchSize, index=0, size=0):
        market.finalizeBatches([], sender=outsider)


# ------------------------------------------------------------------ multicall


def test_multicall_commits_and_finalizes_in_one_transaction_as_the_caller(
    proto, market, staking, chain, requester, worker
):
    done = proto.committed_batch(requester, worker)
    proto.after(WINDOW)
    new, _ = proto.create(requester)
    calls = [
        market.commitResults.encode_input([new], [output_hashes(new, 1)]),
        market.finalizeBatches.encode_input([done]),
    ]
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
    assert market.balanceOf(worker) == PRICE - PROTOCOL
    assert staking.getStake(worker, WORKER).locked == COLLATERAL  # The new batch's; the old one's unlocked.


def test_multicall_reverts_every_call_with_the_failing_calls_error(proto, market, requester, worker):
    pending = proto.committed_batch(requester, worker)
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
    batch_id = proto.committed_batch(requester, worker)
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
