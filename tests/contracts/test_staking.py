import ape

from .helpers import CREDIT, MIN_VERIFIER_STAKE, MIN_WORKER_STAKE, UNBONDING, VERIFIER, WORKER, market_params

URL = "http://127.0.0.1:9100"


def test_stake_as_worker_registers_url_and_emits_events(staking, credit, outsider, funded):
    before = credit.balanceOf(outsider)
    tx = staking.stake(WORKER, MIN_WORKER_STAKE, URL, sender=outsider)
    assert staking.WorkerUrlSet(worker=outsider, url=URL) in tx.events
    assert staking.Staked(account=outsider, role=WORKER, amount=MIN_WORKER_STAKE, total=MIN_WORKER_STAKE) in tx.events
    assert staking.isActive(outsider, WORKER)
    assert staking.workerUrl(outsider) == URL
    assert staking.getStake(outsider, WORKER).amount == MIN_WORKER_STAKE
    assert credit.balanceOf(outsider) == before - MIN_WORKER_STAKE
    assert credit.balanceOf(staking) >= MIN_WORKER_STAKE


def test_stake_again_tops_up_and_keeps_url(staking, worker, staked):
    tx = staking.stake(WORKER, 5 * CREDIT, "", sender=worker)
    assert staking.Staked(account=worker, role=WORKER, amount=5 * CREDIT, total=1_005 * CREDIT) in tx.events
    assert staking.workerUrl(worker) == "http://127.0.0.1:9001"


def test_stake_reverts_if_zero_amount(staking, outsider, funded):
    with ape.reverts(staking.StakingZeroAmount):
        staking.stake(WORKER, 0, URL, sender=outsider)


def test_stake_reverts_if_below_minimum(staking, outsider, funded):
    with ape.reverts(
        staking.StakingBelowMinimum, account=outsider, role=WORKER, amount=CREDIT, minimum=MIN_WORKER_STAKE
    ):
        staking.stake(WORKER, CREDIT, URL, sender=outsider)


def test_stake_reverts_if_worker_has_no_url(staking, outsider, funded):
    with ape.reverts(staking.StakingEmptyUrl, account=outsider):
        staking.stake(WORKER, MIN_WORKER_STAKE, "", sender=outsider)


def test_stake_reverts_if_exit_pending(staking, chain, worker, staked):
    tx = staking.requestExit(WORKER, sender=worker)
    unbonds_at = tx.events[0].unbondsAt
    with ape.reverts(staking.StakingExitPending, account=worker, role=WORKER, unbondsAt=unbonds_at):
        staking.stake(WORKER, CREDIT, "", sender=worker)


def test_set_worker_url_updates_url_and_emits_event(staking, worker, staked):
    tx = staking.setWorkerUrl("http://10.0.0.5:8080", sender=worker)
    assert tx.events == [staking.WorkerUrlSet(worker=worker, url="http://10.0.0.5:8080")]
    assert staking.workerUrl(worker) == "http://10.0.0.5:8080"


def test_set_worker_url_reverts_if_empty(staking, worker, staked):
    with ape.reverts(staking.StakingEmptyUrl, account=worker):
        staking.setWorkerUrl("", sender=worker)


def test_set_worker_url_reverts_if_not_staked(staking, outsider):
    with ape.reverts(staking.StakingNotStaked, account=outsider, role=WORKER):
        staking.setWorkerUrl(URL, sender=outsider)


def test_request_exit_deactivates_and_sets_unbonding_time(staking, chain, worker, staked):
    tx = staking.requestExit(WORKER, sender=worker)
    block_time = chain.blocks[tx.block_number].timestamp
    assert tx.events == [staking.ExitRequested(account=worker, role=WORKER, unbondsAt=block_time + UNBONDING)]
    assert not staking.isActive(worker, WORKER)


def test_request_exit_reverts_if_not_staked(staking, outsider):
    with ape.reverts(staking.StakingNotStaked, account=outsider, role=VERIFIER):
        staking.requestExit(VERIFIER, sender=outsider)


def test_request_exit_reverts_if_already_requested(staking, worker, staked):
    tx = staking.requestExit(WORKER, sender=worker)
    with ape.reverts(staking.StakingExitPending, account=worker, role=WORKER, unbondsAt=tx.events[0].unbondsAt):
        staking.requestExit(WORKER, sender=worker)


def test_withdraw_stake_after_unbonding_returns_credits(staking, credit, chain, worker, staked):
    staking.requestExit(WORKER, sender=worker)
    chain.mine(1, timestamp=chain.pending_timestamp + UNBONDING + 1)
    before = credit.balanceOf(worker)
    tx = staking.withdrawStake(WORKER, sender=worker)
    assert staking.StakeWithdrawn(account=worker, role=WORKER, amount=1_000 * CREDIT) in tx.events
    assert credit.balanceOf(worker) == before + 1_000 * CREDIT
    assert staking.getStake(worker, WORKER).amount == 0


def test_withdraw_stake_reverts_if_exit_not_requested(staking, worker, staked):
    with ape.reverts(staking.StakingExitNotRequested, account=worker, role=WORKER):
        staking.withdrawStake(WORKER, sender=worker)


def test_withdraw_stake_reverts_if_still_unbonding(staking, worker, staked):
    tx = staking.requestExit(WORKER, sender=worker)
    with ape.reverts(staking.StakingStillUnbonding, account=worker, role=WORKER, unbondsAt=tx.events[0].unbondsAt):
        staking.withdrawStake(WORKER, sender=worker)


def test_slash_reverts_if_not_job_market(staking, worker, staked):
    with ape.reverts(staking.StakingOnlyJobMarket, caller=worker):
        staking.slash(worker, WORKER, 1, sender=worker)


def test_constructor_reverts_if_job_market_is_zero(project, owner, credit):
    with ape.reverts(project.Staking.StakingZeroAddress):
        owner.deploy(project.Staking, credit, ape.utils.ZERO_ADDRESS, MIN_WORKER_STAKE, MIN_VERIFIER_STAKE, UNBONDING)


def test_job_market_constructor_reverts_if_staking_names_another_market(
    project, owner, credit, registry, treasury, requester
):
    stk = owner.deploy(project.Staking, credit, requester, MIN_WORKER_STAKE, MIN_VERIFIER_STAKE, UNBONDING)
    with ape.reverts(project.JobMarket.JobMarketStakingMismatch, staking=stk, stakingJobMarket=requester):
        owner.deploy(project.JobMarket, credit, registry, stk, requester, market_params(treasury))


def test_game_constructor_reverts_if_the_market_names_another_game(project, owner, market, game, staked):
    with ape.reverts(project.VerificationGame.GameMarketMismatch, market=market, marketGame=game):
        owner.deploy(project.VerificationGame, market)


def test_getters_report_configuration(staking, credit, market):
    assert staking.credit() == credit
    assert staking.jobMarket() == market
    assert staking.minStake(WORKER) == MIN_WORKER_STAKE
    assert staking.minStake(VERIFIER) == MIN_VERIFIER_STAKE
    assert staking.unbondingPeriod() == UNBONDING


def test_slash_reverts_if_more_than_staked(project, owner, credit, worker, outsider, funded):
    # `outsider` plays the job market.
    fresh = owner.deploy(project.Staking, credit, outsider, MIN_WORKER_STAKE, MIN_VERIFIER_STAKE, UNBONDING)
    credit.approve(fresh, 2**256 - 1, sender=worker)
    fresh.stake(WORKER, MIN_WORKER_STAKE, URL, sender=worker)
    too_much = MIN_WORKER_STAKE + 1
    with ape.reverts(fresh.StakingExceedsStake, account=worker, role=WORKER, amount=too_much, staked=MIN_WORKER_STAKE):
        fresh.slash(worker, WORKER, too_much, sender=outsider)
    tx = fresh.slash(worker, WORKER, 10, sender=outsider)
    assert fresh.StakeSlashed(account=worker, role=WORKER, amount=10) in tx.events
    assert credit.balanceOf(outsider) >= 10
