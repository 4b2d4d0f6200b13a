"""takeJobs, commitResults, expireJobs, drawAudits, finalizeJobs and withdraw."""

import ape
from eth_abi import encode
from eth_utils import keccak

from .helpers import (
    AUDITED,
    COMMITTED,
    CREDIT,
    EXPIRED,
    FINALIZED,
    OPEN,
    PAYMENT,
    PROTOCOL_FEE,
    REFUND,
    SLASH_SHARE,
    TAKEN,
    TIMEOUT,
    UNAUDITED,
    VERIFIER,
    WORKER,
    WORKER_PAYMENT,
    request,
)

COLLATERAL = 2 * PAYMENT
WINDOW = 600


# ------------------------------------------------------------------ takeJobs


def test_take_jobs_assigns_worker_and_locks_collateral(proto, market, staking, chain, requester, worker):
    first, _ = proto.create(requester, request(b"a"), request(b"b"))
    tx = proto.take(worker, first, first + 1)
    now = chain.blocks[tx.block_number].timestamp
    assert tx.events.filter(market.JobTaken) == [
        market.JobTaken(jobId=first, worker=worker, deadline=now + TIMEOUT, collateral=COLLATERAL),
        market.JobTaken(jobId=first + 1, worker=worker, deadline=now + TIMEOUT, collateral=COLLATERAL),
    ]
    assert staking.CollateralLocked(account=worker, role=WORKER, amount=2 * COLLATERAL) in tx.events
    assert staking.getStake(worker, WORKER).locked == 2 * COLLATERAL
    job = market.getJob(first)
    assert (job.worker, job.status, job.deadline) == (worker.address, TAKEN, now + TIMEOUT)


def test_take_jobs_reverts_if_not_registered_worker(proto, market, requester, outsider):
    job_id, _ = proto.create(requester)
    with ape.reverts(market.JobMarketNotRegistered, account=outsider, role=WORKER):
        proto.take(outsider, job_id)


def test_take_jobs_reverts_if_already_taken(proto, market, requester, worker, worker2):
    job_id, _ = proto.create(requester)
    proto.take(worker, job_id)
    with ape.reverts(market.JobMarketInvalidStatus, jobId=job_id, status=TAKEN):
        proto.take(worker2, job_id)


def test_take_jobs_reverts_if_free_stake_insufficient(proto, staking, requester, worker):
    big = 400 * CREDIT  # Collateral 800 credits of a 1,000-credit stake.
    first, _ = proto.create(requester, request(b"a", payment=big), request(b"b", payment=big))
    proto.take(worker, first)
    with ape.reverts(
        staking.StakingInsufficientFreeStake,
        account=worker,
        role=WORKER,
        required=2 * big,
        available=1_000 * CREDIT - 2 * big,
    ):
        proto.take(worker, first + 1)


def test_take_jobs_reverts_if_empty(market, worker, staked):
    with ape.reverts(market.JobMarketEmptyBatch):
        market.takeJobs([], sender=worker)


# ------------------------------------------------------------- commitResults


def test_commit_results_records_hash_and_seed_block(proto, market, chain, requester, worker):
    job_id, _ = proto.create(requester)
    proto.take(worker, job_id)
    output_hash = keccak(b"embedding bytes")
    tx = proto.commit(worker, [job_id], [output_hash])
    now = chain.blocks[tx.block_number].timestamp
    assert tx.events == [
        market.ResultCommitted(
            jobId=job_id,
            worker=worker,
            outputHash=output_hash,
            seedBlock=tx.block_number + 1,
            challengeDeadline=now + WINDOW,
        )
    ]
    job = market.getJob(job_id)
    assert (job.status, job.outputHash, job.seedBlock) == (COMMITTED, output_hash, tx.block_number + 1)


def test_commit_results_reverts_if_not_the_worker(proto, market, requester, worker, worker2):
    job_id, _ = proto.create(requester)
    proto.take(worker, job_id)
    with ape.reverts(market.JobMarketNotWorker, jobId=job_id, caller=worker2):
        proto.commit(worker2, [job_id])


def test_commit_results_reverts_if_deadline_passed(proto, market, requester, worker):
    job_id, _ = proto.create(requester)
    proto.take(worker, job_id)
    deadline = market.getJob(job_id).deadline
    proto.after(TIMEOUT)
    with ape.reverts(market.JobMarketDeadlinePassed, jobId=job_id, deadline=deadline):
        proto.commit(worker, [job_id])


def test_commit_results_reverts_if_zero_hash(proto, market, requester, worker):
    job_id, _ = proto.create(requester)
    proto.take(worker, job_id)
    with ape.reverts(market.JobMarketZeroOutputHash, jobId=job_id):
        proto.commit(worker, [job_id], [b"\x00" * 32])


def test_commit_results_reverts_if_lengths_differ(proto, market, requester, worker):
    job_id, _ = proto.create(requester)
    proto.take(worker, job_id)
    with ape.reverts(market.JobMarketLengthMismatch, expected=1, actual=2):
        market.commitResults([job_id], [keccak(b"a"), keccak(b"b")], sender=worker)


def test_commit_results_reverts_if_not_taken(proto, market, requester, worker):
    job_id, _ = proto.create(requester)
    with ape.reverts(market.JobMarketInvalidStatus, jobId=job_id, status=OPEN):
        proto.commit(worker, [job_id])


def test_commit_results_reverts_if_empty(market, worker, staked):
    with ape.reverts(market.JobMarketEmptyBatch):
        market.commitResults([], [], sender=worker)


# ----------------------------------------------------------------- expireJobs


def test_expire_jobs_slashes_worker_and_refunds_requester(proto, market, staking, requester, worker, treasury, outsider):
    job_id, _ = proto.create(requester)
    proto.take(worker, job_id)
    proto.after(TIMEOUT)
    tx = market.expireJobs([job_id], sender=outsider)
    half = COLLATERAL // 2
    assert tx.events.filter(market.JobTimedOut) == [market.JobTimedOut(jobId=job_id, worker=worker, reopened=False)]
    assert tx.events.filter(market.PartySlashed) == [
        market.PartySlashed(jobId=job_id, account=worker, role=WORKER, amount=COLLATERAL)
    ]
    assert tx.events.filter(market.Credited) == [
        market.Credited(account=requester, jobId=job_id, amount=half, reason=SLASH_SHARE),
        market.Credited(account=treasury, jobId=job_id, amount=COLLATERAL - half, reason=SLASH_SHARE),
        market.Credited(account=requester, jobId=job_id, amount=PAYMENT, reason=REFUND),
    ]
    assert market.getJob(job_id).status == EXPIRED
    assert market.balanceOf(requester) == PAYMENT + half
    stake = staking.getStake(worker, WORKER)
    assert (stake.amount, stake.locked) == (1_000 * CREDIT - COLLATERAL, 0)


def test_expire_jobs_reopens_job_if_requester_chose_reopen(proto, market, requester, worker, worker2, outsider):
    job_id, _ = proto.create(requester, request(reopen=True))
    proto.take(worker, job_id)
    proto.after(TIMEOUT)
    tx = market.expireJobs([job_id], sender=outsider)
    assert market.JobTimedOut(jobId=job_id, worker=worker, reopened=True) in tx.events
    job = market.getJob(job_id)
    assert (job.status, job.worker) == (OPEN, ape.utils.ZERO_ADDRESS)
    assert market.balanceOf(requester) == COLLATERAL // 2  # Slash share, no refund: the job lives on.
    proto.take(worker2, job_id)
    assert market.getJob(job_id).worker == worker2


def test_expire_jobs_reverts_if_deadline_not_reached(proto, market, requester, worker, outsider):
    job_id, _ = proto.create(requester)
    proto.take(worker, job_id)
    deadline = market.getJob(job_id).deadline
    with ape.reverts(market.JobMarketDeadlineNotReached, jobId=job_id, deadline=deadline):
        market.expireJobs([job_id], sender=outsider)


def test_expire_jobs_reverts_if_committed(proto, market, requester, worker, outsider):
    job_id = proto.committed_job(requester, worker)
    proto.after(TIMEOUT)
    with ape.reverts(market.JobMarketInvalidStatus, jobId=job_id, status=COMMITTED):
        market.expireJobs([job_id], sender=outsider)


def test_slash_below_minimum_deregisters_worker(proto, market, staking, requester, worker, outsider):
    big = 300 * CREDIT  # Collateral 600 of 1,000; after the slash 400 remain, above the 100 minimum.
    first, _ = proto.create(requester, request(b"a", payment=big), request(b"b", payment=200 * CREDIT))
    proto.take(worker, first, first + 1)
    proto.after(TIMEOUT)
    tx = market.expireJobs([first, first + 1], sender=outsider)
    assert staking.Deregistered(account=worker, role=WORKER) in tx.events
    assert not staking.isActive(worker, WORKER)
    assert staking.getStake(worker, WORKER).amount == 0


# ----------------------------------------------------------------- drawAudits


def _expected_audit(chain, seed_block: int, job_id: int, audit_bps: int) -> bool:
    seed = chain.blocks[seed_block].hash
    roll = int.from_bytes(keccak(encode(["bytes32", "uint256"], [seed, job_id])), "big") % 10_000
    return roll < audit_bps


def test_draw_audits_follows_blockhash_of_seed_block(proto, market, chain, requester, worker, outsider):
    requests = [request(b"job %d" % i, audit_bps=5_000) for i in range(24)]
    first, _ = proto.create(requester, *requests)
    ids = list(range(first, first + 24))
    proto.take(worker, *ids)
    commit = proto.commit(worker, ids)
    chain.mine(1)
    tx = market.drawAudits(ids, sender=outsider)
    assigned = {e.jobId for e in tx.decode_logs(market.AuditAssigned)}
    skipped = {e.jobId for e in tx.decode_logs(market.AuditNotSelected)}
    expected = {j for j in ids if _expected_audit(chain, commit.block_number + 1, j, 5_000)}
    assert assigned == expected
    assert skipped == set(ids) - expected
    assert assigned and skipped  # 24 fair coins: P(all equal) = 2**-23.


def test_draw_audits_assigns_a_staked_verifier_other_than_worker(proto, market, staking, requester, worker, verifiers):
    job_id = proto.committed_job(requester, worker, audit_bps=10_000)
    tx = proto.draw([job_id], worker)
    (event,) = tx.decode_logs(market.AuditAssigned)
    assert event.verifier in {v.address for v in verifiers}
    assert market.getJob(job_id).status == AUDITED
    assert list(market.jobVerifiers(job_id)) == [event.verifier]
    assert staking.getStake(event.verifier, VERIFIER).locked == COLLATERAL


def test_draw_audits_skips_job_when_not_selected(proto, market, requester, worker):
    job_id = proto.committed_job(requester, worker, audit_bps=0)
    tx = proto.draw([job_id], worker)
    assert tx.events == [market.AuditNotSelected(jobId=job_id)]
    assert market.getJob(job_id).status == UNAUDITED


def test_draw_audits_reverts_if_seed_block_not_mined(proto, market, requester, worker, outsider):
    job_id, _ = proto.create(requester, request(audit_bps=10_000))
    proto.take(worker, job_id)
    commit = proto.commit(worker, [job_id])
    # With automine, the draw transaction itself is mined in the seed block.
    with ape.reverts(market.JobMarketSeedPending, jobId=job_id, seedBlock=commit.block_number + 1):
        market.drawAudits([job_id], sender=outsider)


def test_draw_audits_rearms_seed_out_of_blockhash_reach(proto, market, chain, requester, worker, outsider):
    job_id, _ = proto.create(requester, request(audit_bps=10_000))
    proto.take(worker, job_id)
    proto.commit(worker, [job_id])
    chain.mine(300)
    tx = market.drawAudits([job_id], sender=outsider)
    assert tx.events == [market.AuditSeedRearmed(jobId=job_id, seedBlock=tx.block_number + 1)]
    assert market.getJob(job_id).status == COMMITTED  # Never unaudited by default.
    chain.mine(1)
    tx = market.drawAudits([job_id], sender=outsider)
    assert len(tx.decode_logs(market.AuditAssigned)) == 1


def test_draw_audits_reports_unavailable_if_only_the_worker_verifies(
    proto, market, staking, requester, worker, verifiers
):
    staking.stake(VERIFIER, 1_000 * CREDIT, "", sender=worker)
    for v in verifiers:
        staking.requestExit(VERIFIER, sender=v)
    job_id = proto.committed_job(requester, worker, audit_bps=10_000)
    tx = proto.draw([job_id], worker)
    assert tx.events == [market.AuditUnavailable(jobId=job_id)]
    assert market.getJob(job_id).status == UNAUDITED


def test_draw_audits_reverts_if_not_committed(proto, market, requester, worker):
    job_id, _ = proto.create(requester)
    with ape.reverts(market.JobMarketInvalidStatus, jobId=job_id, status=OPEN):
        proto.draw([job_id], worker)


# --------------------------------------------------------------- finalizeJobs


def test_finalize_jobs_pays_worker_minus_protocol_fee(proto, market, staking, requester, worker, treasury, outsider):
    job_id = proto.committed_job(requester, worker)
    proto.after(WINDOW)
    tx = market.finalizeJobs([job_id], sender=outsider)
    fee = PAYMENT * 500 // 10_000
    assert tx.events.filter(market.AuditNotSelected) == [market.AuditNotSelected(jobId=job_id)]
    assert tx.events.filter(market.JobFinalized) == [
        market.JobFinalized(jobId=job_id, worker=worker, workerPayment=PAYMENT - fee)
    ]
    assert tx.events.filter(market.Credited) == [
        market.Credited(account=worker, jobId=job_id, amount=PAYMENT - fee, reason=WORKER_PAYMENT),
        market.Credited(account=treasury, jobId=job_id, amount=fee, reason=PROTOCOL_FEE),
    ]
    assert market.getJob(job_id).status == FINALIZED
    assert staking.getStake(worker, WORKER).locked == 0


def test_finalize_jobs_refunds_unused_premium(proto, market, chain, requester, worker, outsider):
    job_id, _ = proto.create(requester, request(audit_bps=5_000))
    proto.take(worker, job_id)
    seed_block = proto.commit(worker, [job_id]).block_number + 1
    chain.mine(1)
    # Re-arm the seed (by letting it fall out of blockhash reach) until the draw misses.
    while _expected_audit(chain, seed_block, job_id, 5_000):
        chain.mine(257)
        rearm = market.drawAudits([job_id], sender=outsider)
        seed_block = rearm.decode_logs(market.AuditSeedRearmed)[0].seedBlock
        chain.mine(1)
    proto.after(WINDOW)
    tx = market.finalizeJobs([job_id], sender=outsider)
    assert market.AuditNotSelected(jobId=job_id) in tx.events
    assert market.Credited(account=requester, jobId=job_id, amount=PAYMENT // 10, reason=REFUND) in tx.events
    assert market.balanceOf(requester) == PAYMENT // 10


def test_finalize_jobs_leaves_job_for_audit_when_draw_selects_it(proto, market, requester, worker, outsider):
    job_id = proto.committed_job(requester, worker, audit_bps=10_000)
    proto.after(WINDOW)
    tx = market.finalizeJobs([job_id], sender=outsider)
    assert len(tx.decode_logs(market.AuditAssigned)) == 1
    assert not tx.decode_logs(market.JobFinalized)
    assert market.getJob(job_id).status == AUDITED


def test_finalize_jobs_reverts_if_window_open(proto, market, requester, worker, outsider):
    job_id = proto.committed_job(requester, worker)
    deadline = market.getJob(job_id).deadline
    with ape.reverts(market.JobMarketDeadlineNotReached, jobId=job_id, deadline=deadline):
        market.finalizeJobs([job_id], sender=outsider)


def test_finalize_jobs_reverts_if_not_committed(proto, market, requester, worker, outsider):
    job_id, _ = proto.create(requester)
    proto.take(worker, job_id)
    with ape.reverts(market.JobMarketInvalidStatus, jobId=job_id, status=TAKEN):
        market.finalizeJobs([job_id], sender=outsider)


def test_finalize_jobs_reverts_if_empty(market, outsider, staked):
    with ape.reverts(market.JobMarketEmptyBatch):
        market.finalizeJobs([], sender=outsider)


# ------------------------------------------------------------------- withdraw


def test_withdraw_transfers_balance_and_zeroes_it(proto, market, credit, requester, worker, outsider):
    job_id = proto.committed_job(requester, worker)
    proto.after(WINDOW)
    market.finalizeJobs([job_id], sender=outsider)
    earned = market.balanceOf(worker)
    before = credit.balanceOf(worker)
    tx = market.withdraw(sender=worker)
    assert market.Withdrawn(account=worker, amount=earned) in tx.events
    assert credit.balanceOf(worker) == before + earned
    assert market.balanceOf(worker) == 0


def test_withdraw_reverts_if_nothing_to_withdraw(market, outsider):
    with ape.reverts(market.JobMarketNothingToWithdraw, account=outsider):
        market.withdraw(sender=outsider)
