"""takeBatches, commitResults and drawAudits."""

import ape
from eth_utils import keccak

from .helpers import (
    COLLATERAL,
    CREDIT,
    TIMEOUT,
    VERIFIER,
    WINDOW,
    WORKER,
    AuditStatus,
    BatchStatus,
    batch,
    expected_audit,
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
    big = 16 * CREDIT  # Collateral 240 per job: two batches of two take 960 of the 1,000-credit stake.
    first, _ = proto.create(requester, *[batch(b"a", b"b", price=big) for _ in range(3)])
    proto.take(worker, first, first + 1)
    with ape.reverts(
        market.JobMarketInsufficientFreeStake, account=worker, role=WORKER, required=480 * CREDIT, available=40 * CREDIT
    ):
        proto.take(worker, first + 2)


def test_take_batches_reverts_if_empty(market, worker, staked):
    with ape.reverts(market.JobMarketEmptyInput):
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


# ----------------------------------------------------------------- drawAudits


def test_draw_audits_follows_blockhash_of_seed_block(proto, market, game, chain, requester, worker, outsider):
    batch_id, _ = proto.create(requester, batch(*[b"job %d" % i for i in range(16)], audit_bps=5_000))
    proto.take(worker, batch_id)
    commit = proto.commit(worker, [batch_id])
    chain.mine(1)
    tx = market.drawAudits([batch_id], sender=outsider)
    jobs = [job_id(batch_id, i) for i in range(16)]
    expected = [j for j in jobs if expected_audit(chain, commit.block_number + 1, j, 5_000)]
    assert tx.events.filter(game.AuditsDrawn) == [game.AuditsDrawn(batchId=batch_id, jobIds=expected)]
    assert 0 < len(expected) < 16  # 16 fair coins: P(all equal) = 2**-15.
    assert game.batchAudits(batch_id)[0] == len(expected)
    assert market.getBatch(batch_id).status == BatchStatus.AUDITED
    for j in jobs:
        assert game.getAudit(j).status == (AuditStatus.DRAWING if j in expected else AuditStatus.NONE)


def test_draw_verifiers_assigns_a_staked_verifier_other_than_the_parties(
    proto, market, game, staking, requester, worker, verifiers
):
    job, verifier = proto.audited_job(requester, worker)
    assert verifier in {v.address for v in verifiers}
    audit = game.getAudit(job)
    assert (audit.status, audit.auditor) == (AuditStatus.ASSIGNED, verifier)
    assert staking.getStake(verifier, VERIFIER).locked == COLLATERAL  # Staking asks the market, which asks the game.


def test_draw_audits_that_selects_nothing_marks_the_batch_drawn(proto, market, requester, worker):
    batch_id = proto.unaudited_batch(requester, worker, b"a", b"b")
    tx = market.drawAudits([batch_id], sender=worker)
    assert tx.events == [market.BatchDrawn(batchId=batch_id)]
    assert market.getBatch(batch_id).status == BatchStatus.DRAWN


def test_draw_audits_reverts_if_seed_block_not_mined(proto, market, requester, worker, outsider):
    batch_id, _ = proto.create(requester, batch(audit_bps=10_000))
    proto.take(worker, batch_id)
    commit = proto.commit(worker, [batch_id])
    # With automine, the draw transaction itself is mined in the seed block.
    with ape.reverts(market.JobMarketSeedPending, batchId=batch_id, seedBlock=commit.block_number + 1):
        market.drawAudits([batch_id], sender=outsider)


def test_an_audit_no_verifier_can_take_lapses_after_its_deadline_and_is_paid(
    proto, market, game, staking, requester, worker, verifiers, outsider
):
    staking.stake(VERIFIER, 1_000 * CREDIT, "", sender=worker)
    for v in verifiers:
        staking.requestExit(VERIFIER, sender=v)
    batch_id = proto.committed_batch(requester, worker, audit_bps=10_000)
    market.drawAudits([batch_id], sender=worker)
    job = job_id(batch_id)
    tx = game.drawVerifiers([job], sender=worker)
    assert not tx.decode_logs(game.AuditAssigned)
    assert tx.events == [game.DrawRequested(jobId=job, seedBlock=tx.block_number + 1)]
    proto.after(4 * 300)
    tx = game.resolveTimeouts([job], sender=outsider)
    assert tx.events == [game.AuditLapsed(jobId=job)]
    proto.after(600)
    tx = market.finalizeBatches([batch_id], sender=outsider)
    assert market.BatchFinalized(batchId=batch_id, worker=worker, paidJobs=1) in tx.events


def test_draw_audits_reverts_if_not_committed(proto, market, requester, worker):
    batch_id, _ = proto.create(requester)
    with ape.reverts(market.JobMarketInvalidBatchStatus, batchId=batch_id, status=BatchStatus.OPEN):
        market.drawAudits([batch_id], sender=worker)
