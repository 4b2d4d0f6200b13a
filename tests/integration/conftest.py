"""A real anvil per module, with the protocol deployed by the project's own deploy code; nodes
started per test on a module's devnet."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from eth_utils import keccak

from node.chain.anvil import Anvil, dev_accounts
from node.chain.artifacts import load_artifacts
from node.chain.deploy import DeployConfig, ModelSpec, decoder_for, deploy_protocol
from node.chain.deployments import Deployment
from node.chain.tx import TxSender
from node.devnet import Devnet

from .helpers import Nodes, node_devnet

MODEL = ModelSpec(name="test-model", model_id="0x" + keccak(b"test weights").hex(), mode="exact", min_price=10**6)


@pytest.fixture(scope="module")
def anvil() -> Iterator[Anvil]:
    with Anvil() as node:
        yield node


@pytest.fixture(scope="module")
def deployed(anvil: Anvil) -> tuple[Deployment, list[TxSender]]:
    """The protocol on `anvil`, and a sender for each of 6 dev accounts (0 is the deployer)."""
    w3 = anvil.web3()
    artifacts = load_artifacts()
    senders = [TxSender(w3, account, decoder_for(artifacts)) for account in dev_accounts(6)]
    deployment = deploy_protocol(w3, senders[0], DeployConfig(), [MODEL], artifacts)
    return deployment, senders


@pytest.fixture(scope="module")
def devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Devnet]:
    """A devnet of the module's own with the real models registered, for node tests."""
    yield from node_devnet(tmp_path_factory.mktemp("devnet"))


@pytest.fixture
def nodes(devnet: Devnet) -> Iterator[Nodes]:
    """Nodes started for one test, stopped and out of the registry when it ends."""
    started = Nodes(devnet)
    yield started
    started.close()
