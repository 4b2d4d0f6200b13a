"""VerificationGame: audits, verdicts, challenges and disputes, each attack of the security review
tried against the real contracts (findings 1-5 and 7; the batch and cancel findings are in
test_attacks_market.py)."""

import ape
from eth_utils import keccak

from .helpers import (
    COLLATERAL,
    CREDIT,
    FEE,
    PRICE,
    PROTOCOL,
    VERDICT_WINDOW,
    VERIFIER,
    VERIFIER_STAKE,
    WINDOW,
    WORKER,
    AuditStatus,
    BatchStatus,
    Reason,
    Vote,
    batch,
    by_address,
    job_id,
)

OUT = keccak(b"verifier output")
QUORUM = 2  # Of a panel of 3.


def _accounts(verifiers, addresses):
    return [by_address(verifiers, a) for a in addresses]


def _rejected(proto, game, requester, worker, verifiers):
    """An audited job its auditor rejected, with the panel drawn: (job, auditor, panel)."""
    job, address = proto.audited_job(requester, worker)
    auditor = by_address(verifiers, address)
    game.submitVerdict(job, False, OUT, sender=auditor)
    panel = _accounts(verifiers, proto.dispute_panel(job, worker))
    return job, auditor, panel


# ------------------------------------------------------------------ audits


def test_accept_pays_the_auditor_and_the_batch_waits_a_challenge_window_after_it(
    proto, market, game, staking, requester, worker, verifiers, outsider
):
    job, address = proto.audited_job(requester, worker)
    auditor = by_address(verifiers, address)
    batch_id = job >> 16
    proto.after(60)  # The auditor takes a minute.
    tx = game.submitVerdict(job, True, OUT, sender=auditor)
    assert tx.events.filter(market.Credited) == [
        market.Credited(account=auditor, batchId=batch_id, amount=FEE, reason=Reason.VERIFIER_FEE)
    ]
    assert game.getAudit(job).status == AuditStatus.ACCEPTED
    open_, until = game.batchAudits(batch_id)
    assert open_ == 0 and until >= proto.chain.blocks.head.timestamp + WINDOW - 1
    # Past the batch's own window, not the accept's.
    proto.chain.mine(1, timestamp=market.getBatch(batch_id).deadline + 1)
    with ape.reverts(market.JobMarketAuditsOpen, batchId=batch_id, open=0, challengeableUntil=until):
        market.finalizeBatches([batch_id], sender=outsider)
    proto.after(WINDOW)
    tx = market.finalizeBatches([batch_id], sender=outsider)
    assert (
        market.BatchFinalized(batchId=batch_id, worker=worker, paidJobs=1, workerPayment=PRICE - PROTOCOL) in tx.events
    )
    assert staking.getStake(worker, WORKER).locked == 0
    # The auditor's bond stayed at risk through the window; now it is free.
    assert game.bondedOf(auditor) == COLLATERAL
    game.resolveTimeouts([job], sender=outsider)
    assert game.bondedOf(auditor) == 0
    assert game.getAudit(job).status == AuditStatus.UPHELD


def test_auditors_are_drawn_lazily_so_a_fully_audited_batch_costs_its_finalizer_no_draws(
    proto, market, game, requester, worker
):
    """Finding 9: the finalizer's gas does not grow with verifier draws; whoever draws pays."""
    one = proto.committed_batch(requester, worker, b"a", audit_bps=10_000)
    many = proto.committed_batch(requester, worker, *[b"%d" % i for i in range(16)], audit_bps=10_000)
    proto.after(WINDOW)
    gas_one = market.finalizeBatches([one], sender=worker).gas_used
    tx = market.finalizeBatches([many], sender=worker)
    assert len(tx.decode_logs(game.AuditsDrawn)[0].jobIds) == 16
    assert not tx.decode_logs(game.AuditAssigned)
    # 15 more jobs selected cost the selection loop and 15 audit records, no verifier draw.
    assert tx.gas_used - gas_one < 15 * 40_000


def test_reject_bonds_the_batch_collateral_and_the_panel_comes_from_a_later_block(
    proto, market, game, requester, worker, verifiers
):
    """Finding 1: nothing about the panel is known in the block that opened the dispute."""
    job, address = proto.audited_job(requester, worker)
    auditor = by_address(verifiers, address)
    tx = game.submitVerdict(job, False, OUT, sender=auditor)
    assert game.DisputeOpened(jobId=job, accuser=auditor, challenge=False, bond=COLLATERAL) in tx.events
    assert not tx.decode_logs(game.PanelistDrawn)
    (requested,) = tx.decode_logs(game.DrawRequested)
    assert requested.seedBlock == tx.block_number + 1
    assert game.getAudit(job).panel == [ape.utils.ZERO_ADDRESS] * 3
    assert game.bondedOf(auditor) == COLLATERAL  # One job: the batch's collateral is the job's.


def test_panel_cannot_be_drawn_before_its_seed_block_is_mined(proto, game, requester, worker, verifiers):
    """A contract that challenges and then reads its panel in one transaction finds nothing to
    read: revert-until-lucky has no outcome to look at."""
    job, address = proto.audited_job(requester, worker)
    tx = game.submitVerdict(job, False, OUT, sender=by_address(verifiers, address))
    with ape.reverts(game.GameSeedPending, jobId=job, seedBlock=tx.block_number + 1):
        # Mined in the seed block itself, whose hash no transaction in it can read.
        game.drawVerifiers([job], sender=worker)


def test_panel_reject_quorum_forfeits_the_batch_and_refunds_the_requester(
    proto, market, game, staking, requester, worker, verifiers, treasury
):
    job, auditor, panel = _rejected(proto, game, requester, worker, verifiers)
    batch_id = job >> 16
    game.submitVerdict(job, False, OUT, sender=panel[0])
    tx = game.submitVerdict(job, False, OUT, sender=panel[1])  # Quorum: settled without the third.
    assert game.DisputeSettled(jobId=job, workerWon=False, acceptVotes=0, rejectVotes=QUORUM) in tx.events
    assert market.BatchForfeited(batchId=batch_id, worker=worker, requester=requester, slashed=COLLATERAL) in tx.events
    assert market.getBatch(batch_id).status == BatchStatus.FORFEITED
    assert game.getAudit(job).status == AuditStatus.OVERTURNED
    # Refund of price and premium, and half the slash; the rest to the accuser, the two who
    # voted reject, and the treasury.
    assert market.balanceOf(requester) == PRICE + FEE + COLLATERAL // 2
    share = COLLATERAL * 3 // 10 // 3
    for v in (auditor, panel[0], panel[1]):
        assert market.balanceOf(v) == share
    assert market.balanceOf(panel[2]) == 0
    for v in (auditor, *panel):
        assert game.bondedOf(v) == 0
    assert staking.getStake(worker, WORKER).amount == 1_000 * CREDIT - COLLATERAL
    assert staking.getStake(worker, WORKER).locked == 0


def test_false_accusation_is_outvoted_and_the_accuser_loses_its_bond(
    proto, market, game, staking, requester, worker, verifiers, outsider
):
    job, liar, panel = _rejected(proto, game, requester, worker, verifiers)
    game.submitVerdict(job, True, OUT, sender=panel[0])
    tx = game.submitVerdict(job, True, OUT, sender=panel[1])
    assert game.DisputeSettled(jobId=job, workerWon=True, acceptVotes=2, rejectVotes=0) in tx.events
    assert market.PartySlashed(batchId=job >> 16, account=liar, role=VERIFIER, amount=COLLATERAL) in tx.events
    assert staking.getStake(liar, VERIFIER).amount == VERIFIER_STAKE - COLLATERAL
    # The winners share the fee and 30% of the slash; the worker, whom the lie delayed, half.
    for v in panel[:2]:
        assert market.balanceOf(v) == FEE // 2 + COLLATERAL * 3 // 10 // 2
    proto.after(WINDOW)
    market.finalizeBatches([job >> 16], sender=outsider)
    assert market.balanceOf(worker) == PRICE - PROTOCOL + COLLATERAL // 2


def test_accuser_cannot_vote_in_its_own_dispute(proto, game, requester, worker, verifiers):
    """Finding 1: the accuser's reject is not a panel vote."""
    job, auditor, _ = _rejected(proto, game, requester, worker, verifiers)
    assert auditor.address not in game.getAudit(job).panel
    with ape.reverts(game.GameNotAssigned, jobId=job, caller=auditor):
        game.submitVerdict(job, False, OUT, sender=auditor)


def test_silent_panel_is_penalised_replaced_and_never_decides_for_the_accuser(
    proto, market, game, staking, requester, worker, verifiers, outsider
):
    """Finding 1: absent panelists lose their bonds and are replaced; no silence convicts."""
    job, auditor, panel = _rejected(proto, game, requester, worker, verifiers)
    proto.after(VERDICT_WINDOW)
    tx = game.resolveTimeouts([job], sender=outsider)
    assert [e.verifier for e in tx.decode_logs(game.VerifierAbsent)] == [p.address for p in panel]
    for p in panel:
        assert staking.getStake(p, VERIFIER).amount == VERIFIER_STAKE - COLLATERAL
    # One verifier is left that was never on the job: it fills one seat; no quorum is possible.
    replacements = proto.dispute_panel(job, outsider)
    assert len(replacements) == 1 and replacements[0] not in {p.address for p in panel}
    for _ in range(2):
        proto.after(VERDICT_WINDOW)
        tx = game.resolveTimeouts([job], sender=outsider)
    assert game.DisputeSettled(jobId=job, workerWon=True, acceptVotes=0, rejectVotes=0) in tx.events
    assert game.getAudit(job).status == AuditStatus.UPHELD
    assert market.getBatch(job >> 16).status == BatchStatus.AUDITED  # Not forfeited: the worker is paid.
    # No side reached the quorum: the accusation is void, neither proven nor false.
    assert staking.getStake(auditor, VERIFIER).amount == VERIFIER_STAKE
    assert game.bondedOf(auditor) == 0


def test_retried_panel_draws_that_seat_no_one_never_hold_a_dispute_open(
    proto, market, game, requester, worker, verifiers, outsider
):
    """Finding 1 (liveness): with the pool exhausted, a draw retried every block seats no one and
    does not move the round's deadline, so the dispute still ends after its rounds."""
    job, _, _ = _rejected(proto, game, requester, worker, verifiers)
    proto.after(VERDICT_WINDOW)
    game.resolveTimeouts([job], sender=outsider)  # Round 0 was silent: its panel is out.
    assert len(proto.dispute_panel(job, outsider)) == 1  # The one verifier left.
    deadline = game.getAudit(job).deadline
    for _ in range(2):  # The griefer retries through the round: no one is left to seat.
        proto.after(VERDICT_WINDOW // 2)
        assert proto.dispute_panel(job, worker) == [] and game.getAudit(job).deadline == deadline
    game.resolveTimeouts([job], sender=outsider)
    proto.dispute_panel(job, worker)
    proto.after(VERDICT_WINDOW)
    tx = game.resolveTimeouts([job], sender=outsider)
    assert game.DisputeSettled(jobId=job, workerWon=True, acceptVotes=0, rejectVotes=0) in tx.events
    assert market.getBatch(job >> 16).status == BatchStatus.AUDITED


def test_replacement_auditor_is_drawn_from_a_block_after_the_timeout(
    proto, market, game, staking, requester, worker, verifiers, outsider
):
    """Finding 1: `replaceVerifier` no longer lets its caller pick the replacement."""
    job, address = proto.audited_job(requester, worker)
    late = by_address(verifiers, address)
    proto.after(VERDICT_WINDOW)
    tx = game.resolveTimeouts([job], sender=outsider)
    assert game.VerifierAbsent(jobId=job, verifier=late, penalty=COLLATERAL) in tx.events
    assert staking.getStake(late, VERIFIER).amount == VERIFIER_STAKE - COLLATERAL
    assert game.getAudit(job).status == AuditStatus.DRAWING
    with ape.reverts(game.GameSeedPending, jobId=job, seedBlock=tx.block_number + 1):
        game.drawVerifiers([job], sender=outsider)
    proto.chain.mine(1)
    (assigned,) = game.drawVerifiers([job], sender=outsider).decode_logs(game.AuditAssigned)
    assert assigned.verifier != late.address
    with ape.reverts(game.GameNotAssigned, jobId=job, caller=late):
        game.submitVerdict(job, True, OUT, sender=late)


def test_requester_and_worker_are_never_drawn_even_holding_most_of_the_stake(
    proto, market, game, staking, requester, worker, verifiers
):
    """Finding 1: both parties are excluded, whatever their verifier stake."""
    staking.stake(VERIFIER, 9_000 * CREDIT, "", sender=requester)
    staking.stake(VERIFIER, 8_000 * CREDIT, "", sender=worker)
    drawn = set()
    for _ in range(6):
        _, auditor, panel = _rejected(proto, game, requester, worker, verifiers)
        drawn |= {auditor.address, *(p.address for p in panel)}
    assert requester.address not in drawn and worker.address not in drawn


def test_draws_are_weighted_by_stake_so_sybils_gain_nothing(staking, chain, accounts, credit, owner, verifiers, staked):
    """Finding 1: splitting a stake over addresses does not add weight. 2,000 samples of a pool
    of five verifiers of 2,000 credits and four sybils of 1,000: each is drawn in proportion to
    its stake, so the sybils together weigh what one stake of 4,000 would."""
    sybils = [accounts.generate_test_account() for _ in range(4)]
    for s in sybils:
        owner.transfer(s, 10**18)
        credit.mint(s, 1_000 * CREDIT, sender=owner)
        credit.approve(staking, 2**256 - 1, sender=s)
        staking.stake(VERIFIER, 1_000 * CREDIT, "", sender=s)
    snapshot = chain.blocks.head.number
    counts = {}
    samples = 2_000
    for i in range(samples):
        v = staking.sampleVerifier(snapshot, int.from_bytes(keccak(b"%d" % i), "big"))
        counts[v] = counts.get(v, 0) + 1
    total = 5 * VERIFIER_STAKE + 4 * 1_000 * CREDIT
    sybil_share = sum(counts.get(s.address, 0) for s in sybils) / samples
    assert abs(sybil_share - 4_000 / (total // CREDIT)) < 0.04  # 3 sigma at n = 2,000 is 0.03.
    for v in verifiers:
        assert abs(counts.get(v.address, 0) / samples - 2_000 / (total // CREDIT)) < 0.035


def test_stake_added_after_the_commit_is_never_drawn_for_it(
    proto, market, game, staking, credit, owner, accounts, requester, worker
):
    """Finding 2: a worker that stakes a sybil verifier once its seed is known cannot steer."""
    sybil = accounts.generate_test_account()
    owner.transfer(sybil, 10**18)
    credit.mint(sybil, 100_000 * CREDIT, sender=owner)
    credit.approve(staking, 2**256 - 1, sender=sybil)
    batch_id = proto.committed_batch(requester, worker, *[b"%d" % i for i in range(8)], audit_bps=10_000)
    # Seed known; the sybil now holds 100,000 of 110,000 credits of verifier stake.
    staking.stake(VERIFIER, 100_000 * CREDIT, "", sender=sybil)
    market.drawAudits([batch_id], sender=worker)
    tx = game.drawVerifiers([job_id(batch_id, i) for i in range(8)], sender=worker)
    assigned = [e.verifier for e in tx.decode_logs(game.AuditAssigned)]
    assert len(assigned) == 8 and sybil.address not in assigned


def _whale(accounts, owner, credit, staking):
    whale = accounts.generate_test_account()
    owner.transfer(whale, 10**18)
    credit.mint(whale, 100_000 * CREDIT, sender=owner)
    credit.approve(staking, 2**256 - 1, sender=whale)
    return whale


def test_a_retried_auditor_draw_keeps_the_pool_of_the_commit(
    proto, market, game, staking, credit, owner, accounts, chain, requester, worker, verifiers
):
    """Finding 2, found by the adversary simulator: a draw that finds no one is retried from a
    later block, and must not take in the stake staked since (else voiding the pool, then
    staking a sybil, would steer the audit)."""
    batch_id = proto.committed_batch(requester, worker, audit_bps=10_000)
    for v in verifiers:
        staking.requestExit(VERIFIER, sender=v)  # Their entries are void: the first draw finds no one.
    market.drawAudits([batch_id], sender=worker)
    job = job_id(batch_id)
    assert not game.drawVerifiers([job], sender=worker).decode_logs(game.AuditAssigned)
    whale = _whale(accounts, owner, credit, staking)
    staking.stake(VERIFIER, 100_000 * CREDIT, "", sender=whale)
    for _ in range(5):
        chain.mine(1)
        assert not game.drawVerifiers([job], sender=worker).decode_logs(game.AuditAssigned)
    assert game.getAudit(job).status == AuditStatus.DRAWING


def test_a_panel_is_drawn_from_the_pool_of_the_block_that_opened_the_dispute(
    proto, market, game, staking, credit, owner, accounts, chain, requester, worker, verifiers
):
    job, address = proto.audited_job(requester, worker)
    game.submitVerdict(job, False, OUT, sender=by_address(verifiers, address))
    whale = _whale(accounts, owner, credit, staking)
    staking.stake(VERIFIER, 100_000 * CREDIT, "", sender=whale)  # 10 times the others, after the reject.
    panel = proto.dispute_panel(job, worker)
    assert len(panel) == 3 and whale.address not in panel


def test_an_exit_does_not_move_other_verifiers_in_the_draw(staking, chain, verifiers, staked):
    """Finding 2: a draw reads the weights of its snapshot block, so leaving after it cannot shift
    who the draw lands on."""
    snapshot = chain.blocks.head.number
    before = [staking.sampleVerifier(snapshot, r) for r in range(0, 10_000 * CREDIT, 397 * CREDIT)]
    staking.requestExit(VERIFIER, sender=verifiers[1])
    after = [staking.sampleVerifier(snapshot, r) for r in range(0, 10_000 * CREDIT, 397 * CREDIT)]
    for b, a in zip(before, after, strict=True):
        assert a == (ape.utils.ZERO_ADDRESS if b == verifiers[1].address else b)


def test_an_overturned_accept_slashes_the_lazy_auditor(
    proto, market, game, staking, requester, worker, verifiers, outsider
):
    """Finding 3: an accept is not final; accepting without checking risks the bond."""
    job, address = proto.audited_job(requester, worker)
    lazy = by_address(verifiers, address)
    game.submitVerdict(job, True, OUT, sender=lazy)
    challenger = next(v for v in verifiers if v.address != lazy.address)
    tx = game.challenge(job, OUT, sender=challenger)
    assert game.DisputeOpened(jobId=job, accuser=challenger, challenge=True, bond=COLLATERAL) in tx.events
    panel = _accounts(verifiers, proto.dispute_panel(job, outsider))
    assert lazy not in panel and challenger not in panel
    for p in panel[:QUORUM]:
        tx = game.submitVerdict(job, False, OUT, sender=p)
    assert market.PartySlashed(batchId=job >> 16, account=lazy, role=VERIFIER, amount=COLLATERAL) in tx.events
    assert staking.getStake(lazy, VERIFIER).amount == VERIFIER_STAKE - COLLATERAL
    assert game.bondedOf(lazy) == 0
    assert market.getBatch(job >> 16).status == BatchStatus.FORFEITED


def test_challenge_reverts_after_the_window_and_for_parties(
    proto, market, game, requester, worker, verifiers, outsider
):
    batch_id = proto.drawn_batch(requester, worker)
    job = job_id(batch_id)
    with ape.reverts(game.GameConflictOfInterest, jobId=job, account=worker):
        game.challenge(job, OUT, sender=worker)
    with ape.reverts(game.GameConflictOfInterest, jobId=job, account=requester):
        game.challenge(job, OUT, sender=requester)
    with ape.reverts(game.GameNotVerifier, account=outsider):
        game.challenge(job, OUT, sender=outsider)
    proto.after(WINDOW)
    with ape.reverts(game.GameNotChallengeable, jobId=job):
        game.challenge(job, OUT, sender=verifiers[0])


def test_a_seed_out_of_blockhash_reach_audits_every_job_instead_of_drawing_again(
    proto, market, game, requester, worker, outsider
):
    """Finding 4: keeping verifiers away for 256 blocks buys no second draw."""
    batch_id = proto.committed_batch(requester, worker, *[b"%d" % i for i in range(6)])
    proto.chain.mine(257)
    tx = market.drawAudits([batch_id], sender=outsider)
    assert game.AuditsDrawn(batchId=batch_id, jobIds=[job_id(batch_id, i) for i in range(6)]) in tx.events
    assert market.getBatch(batch_id).status == BatchStatus.AUDITED


def test_a_pending_draw_past_reach_gives_the_same_panel_however_long_one_waits(
    proto, game, chain, requester, worker, verifiers, outsider
):
    """Finding 4: a panel seed out of reach falls back to a value fixed by the request."""
    job, address = proto.audited_job(requester, worker)
    game.submitVerdict(job, False, OUT, sender=by_address(verifiers, address))
    chain.mine(300)
    snap = chain.snapshot()
    first = [e.verifier for e in game.drawVerifiers([job], sender=outsider).decode_logs(game.PanelistDrawn)]
    chain.restore(snap)
    chain.mine(40)
    again = [e.verifier for e in game.drawVerifiers([job], sender=outsider).decode_logs(game.PanelistDrawn)]
    assert first == again and len(first) == 3


def test_the_most_valuable_batch_allowed_is_audited_and_one_above_it_is_refused(
    proto, market, game, requester, worker, verifiers
):
    """Finding 5: every job that can exist can be audited, and its auditor can afford to reject."""
    cap = market.maxBatchCollateral()
    top = cap * 10_000 // 150_000  # The highest price whose collateral fits in one job's batch.
    with ape.reverts(market.JobMarketBatchTooValuable):
        market.createBatches([batch(price=top + 1, audit_bps=10_000)], sender=requester)
    batch_id, _ = proto.create(requester, batch(price=top, audit_bps=10_000))
    proto.take(worker, batch_id)
    proto.commit(worker, [batch_id])
    proto.chain.mine(1)
    market.drawAudits([batch_id], sender=worker)
    (assigned,) = game.drawVerifiers([job_id(batch_id)], sender=worker).decode_logs(game.AuditAssigned)
    game.submitVerdict(job_id(batch_id), False, OUT, sender=by_address(verifiers, assigned.verifier))
    assert game.getAudit(job_id(batch_id)).status == AuditStatus.DISPUTED


def test_a_verifier_deregistered_by_a_slash_exits_without_panic(
    deploy_market, credit, requester, worker, verifiers, chain, funded
):
    """Finding 7, exactly: a slash below the minimum deregisters, then requestExit works."""
    stk, mkt, gm = deploy_market(min_verifier_stake=60 * CREDIT)
    for account in (requester, worker, *verifiers):
        credit.approve(mkt, 2**256 - 1, sender=account)
        credit.approve(stk, 2**256 - 1, sender=account)
    stk.stake(WORKER, 500 * CREDIT, "http://127.0.0.1:9001", sender=worker)
    for v in verifiers:
        stk.stake(VERIFIER, 60 * CREDIT, "", sender=v)
    tx = mkt.createBatches([batch(audit_bps=10_000)], sender=requester)
    batch_id = tx.decode_logs(mkt.BatchCreated)[0].batchId
    mkt.commitResults([batch_id], [[keccak(b"out")]], sender=worker)
    chain.mine(1)
    mkt.drawAudits([batch_id], sender=worker)
    job = job_id(batch_id)
    (assigned,) = gm.drawVerifiers([job], sender=worker).decode_logs(gm.AuditAssigned)
    liar = by_address(verifiers, assigned.verifier)
    gm.submitVerdict(job, False, OUT, sender=liar)
    chain.mine(1)
    drawn = gm.drawVerifiers([job], sender=worker).decode_logs(gm.PanelistDrawn)
    panel = _accounts(verifiers, [e.verifier for e in drawn])
    for p in panel[:QUORUM]:
        tx = gm.submitVerdict(job, True, OUT, sender=p)
    assert stk.Deregistered(account=liar, role=VERIFIER) in tx.events
    stk.requestExit(VERIFIER, sender=liar)
    chain.mine(1, timestamp=chain.pending_timestamp + 24 * 3600 + 1)
    before = credit.balanceOf(liar)
    stk.withdrawStake(VERIFIER, sender=liar)
    assert credit.balanceOf(liar) == before + 60 * CREDIT - COLLATERAL


def test_votes_and_views_report_the_dispute(proto, game, requester, worker, verifiers):
    job, auditor, panel = _rejected(proto, game, requester, worker, verifiers)
    game.submitVerdict(job, True, OUT, sender=panel[0])
    assert game.voteOf(job, panel[0]) == Vote.ACCEPT
    assert game.voteOf(job, panel[1]) == Vote.NONE
    audit = game.getAudit(job)
    assert (audit.status, audit.accuser, audit.auditor) == (AuditStatus.DISPUTED, auditor.address, auditor.address)
    with ape.reverts(game.GameAlreadyVoted, jobId=job, verifier=panel[0]):
        game.submitVerdict(job, False, OUT, sender=panel[0])
    assert game.panel() == (3, QUORUM)


def test_submit_verdicts_and_draws_revert_on_empty_or_mismatched_input(game, verifiers, staked):
    with ape.reverts(game.GameEmptyInput):
        game.submitVerdicts([], [], [], sender=verifiers[0])
    with ape.reverts(game.GameLengthMismatch, expected=1, actual=0):
        game.submitVerdicts([1 << 16], [], [OUT], sender=verifiers[0])
    with ape.reverts(game.GameEmptyInput):
        game.drawVerifiers([], sender=verifiers[0])
    with ape.reverts(game.GameNothingToDraw, jobId=1 << 16):
        game.drawVerifiers([1 << 16], sender=verifiers[0])


def test_only_the_market_opens_audits_and_only_the_game_moves_credits(market, game, outsider, staked):
    with ape.reverts(game.GameOnlyMarket, caller=outsider):
        game.openAudits(1, [1 << 16], b"\x01" * 32, sender=outsider)
    with ape.reverts(market.JobMarketNotGame, caller=outsider):
        market.forfeitBatch(1, sender=outsider)
    with ape.reverts(market.JobMarketNotGame, caller=outsider):
        market.payAuditFee(1, [outsider], sender=outsider)
