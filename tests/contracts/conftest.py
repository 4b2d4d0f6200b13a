"""Session-scoped deployment of the protocol on anvil (ape-foundry).

ape takes a chain snapshot around every test, so the contracts below are deployed once and
every test starts from the same funded, staked state.
"""

from __future__ import annotations

import pytest

from .helpers import (
    CREDIT,
    DIGITS_ID,
    EMBED_ID,
    EXACT,
    MIN_PRICE,
    MIN_VERIFIER_STAKE,
    MIN_WORKER_STAKE,
    TOLERANCE_HASH,
    TOLERANT,
    UNBONDING,
    VERIFIER,
    VERIFIER_STAKE,
    WORKER,
    Protocol,
    market_params,
)


@pytest.fixture(scope="session")
def owner(accounts):
    return accounts[0]


@pytest.fixture(scope="session")
def treasury(accounts):
    return accounts[1]


@pytest.fixture(scope="session")
def requester(accounts):
    return accounts[2]


@pytest.fixture(scope="session")
def requester2(accounts):
    return accounts[3]


@pytest.fixture(scope="session")
def worker(accounts):
    return accounts[4]


@pytest.fixture(scope="session")
def worker2(accounts):
    return accounts[5]


@pytest.fixture(scope="session")
def outsider(accounts):
    """Funded, unstaked."""
    return accounts[6]


@pytest.fixture(scope="session")
def verifiers(accounts):
    return [accounts[i] for i in range(7, 12)]


@pytest.fixture(scope="session")
def credit(project, owner):
    return owner.deploy(project.Credit, owner)


@pytest.fixture(scope="session")
def registry(project, owner):
    reg = owner.deploy(project.ModelRegistry, owner)
    reg.registerModel(EMBED_ID, "all-MiniLM-L6-v2", TOLERANT, TOLERANCE_HASH, MIN_PRICE, sender=owner)
    reg.registerModel(DIGITS_ID, "digits-mlp", EXACT, b"\x00" * 32, MIN_PRICE, sender=owner)
    return reg


@pytest.fixture(scope="session")
def deploy_market(project, owner, treasury, credit, registry):
    """Deploys Staking, JobMarket and VerificationGame, with some market parameters changed.
    Each names the next by the address it gets from the owner's next nonces."""

    def deploy(min_verifier_stake=MIN_VERIFIER_STAKE, **overrides):
        market_at = owner.get_deployment_address(owner.nonce + 1)
        game_at = owner.get_deployment_address(owner.nonce + 2)
        stk = owner.deploy(project.Staking, credit, market_at, MIN_WORKER_STAKE, min_verifier_stake, UNBONDING)
        mkt = owner.deploy(project.JobMarket, credit, registry, stk, game_at, market_params(treasury, **overrides))
        gm = owner.deploy(project.VerificationGame, mkt)
        registry.linkJobMarket(mkt, sender=owner)  # Sends it the models' terms.
        return stk, mkt, gm

    return deploy


@pytest.fixture(scope="session")
def protocol_pair(deploy_market):
    return deploy_market()


@pytest.fixture(scope="session")
def staking(protocol_pair):
    return protocol_pair[0]


@pytest.fixture(scope="session")
def market(protocol_pair):
    return protocol_pair[1]


@pytest.fixture(scope="session")
def game(protocol_pair):
    return protocol_pair[2]


@pytest.fixture(scope="session")
def funded(owner, credit, market, staking, requester, requester2, worker, worker2, outsider, verifiers):
    """Everyone holds 10,000 credits and has approved the market and staking contracts."""
    for account in (requester, requester2, worker, worker2, outsider, *verifiers):
        credit.mint(account, 10_000 * CREDIT, sender=owner)
        credit.approve(market, 2**256 - 1, sender=account)
        credit.approve(staking, 2**256 - 1, sender=account)
    return True


@pytest.fixture(scope="session")
def staked(funded, staking, worker, worker2, verifiers):
    """Two workers are staked with 1,000 credits each and five verifiers with 2,000."""
    staking.stake(WORKER, 1_000 * CREDIT, "http://127.0.0.1:9001", sender=worker)
    staking.stake(WORKER, 1_000 * CREDIT, "http://127.0.0.1:9002", sender=worker2)
    for v in verifiers:
        staking.stake(VERIFIER, VERIFIER_STAKE, "", sender=v)
    return True


@pytest.fixture(scope="session")
def proto(market, game, staking, credit, chain, staked):
    return Protocol(market=market, game=game, staking=staking, credit=credit, chain=chain)
