"""Deploys the protocol to any EVM chain and describes it in a `Deployment`."""

from __future__ import annotations

import logging
from typing import Literal

from pydantic import BaseModel, Field
from web3 import Web3
from web3.types import Nonce
from web3.utils.address import get_create_address

from node.chain.artifacts import Artifact, load_artifacts
from node.chain.deployments import ContractRecord, Deployment, ModelRecord
from node.chain.errors import RevertDecoder
from node.chain.tx import TxSender

log = logging.getLogger(__name__)

CREDIT_UNIT = 10**6  # Credits have 6 decimals.
_MODES = {"exact": 1, "tolerant": 2}


class MarketParams(BaseModel):
    """JobMarket.Params, less the treasury. Defaults suit a devnet, and make cheating lose:
    the market refuses parameters that do not (docs/economics.md)."""

    protocol_fee_bps: int = 500
    verifier_fee_bps: int = 1000
    collateral_bps: int = 200_000
    base_audit_bps: int = 1000
    slash_cheated_bps: int = 5000
    slash_verifiers_bps: int = 3000
    panel_size: int = 3
    challenge_window: int = 600
    verdict_window: int = 300
    max_input_bytes: int = 4096
    max_batch_size: int = 256

    def as_tuple(self, treasury: str) -> tuple[object, ...]:
        """The struct, in Solidity field order."""
        return (
            treasury,
            self.protocol_fee_bps,
            self.verifier_fee_bps,
            self.collateral_bps,
            self.base_audit_bps,
            self.slash_cheated_bps,
            self.slash_verifiers_bps,
            self.panel_size,
            self.challenge_window,
            self.verdict_window,
            self.max_input_bytes,
            self.max_batch_size,
        )


class DeployConfig(BaseModel):
    """What `deploy_protocol` deploys."""

    min_worker_stake: int = 100 * CREDIT_UNIT
    # A batch may carry collateral up to half of it, so that any verifier can dispute any batch.
    min_verifier_stake: int = 1000 * CREDIT_UNIT
    unbonding_period: int = 24 * 3600
    treasury: str | None = None
    market: MarketParams = Field(default_factory=MarketParams)


class ModelSpec(BaseModel):
    """A model to register: its id is keccak256 of its canonical weight bytes."""

    name: str
    model_id: str
    mode: Literal["exact", "tolerant"]
    tolerance_hash: str = "0x" + "00" * 32
    min_price: int = CREDIT_UNIT


def deploy_protocol(
    w3: Web3,
    sender: TxSender,
    config: DeployConfig,
    models: list[ModelSpec],
    artifacts: dict[str, Artifact] | None = None,
) -> Deployment:
    """Deploys Credit, ModelRegistry, Staking, JobMarket and VerificationGame (each naming the
    next one's address ahead) and registers `models`."""
    artifacts = artifacts or load_artifacts()
    owner = sender.address
    treasury = Web3.to_checksum_address(config.treasury or owner)
    start_block = w3.eth.block_number

    def deploy(name: str, *args: object) -> str:
        factory = w3.eth.contract(abi=artifacts[name].abi, bytecode=artifacts[name].bytecode)
        receipt = sender.deploy(factory.constructor(*args))
        address = str(receipt["contractAddress"])
        log.info("deployed", extra={"contract": name, "address": address, "gas": receipt["gasUsed"]})
        return address

    credit = deploy("Credit", owner)
    registry = deploy("ModelRegistry", owner)
    # Staking names the market, and the market the game, as immutables: their addresses are the
    # CREATE addresses of the deployer's next nonces. Each constructor checks that they agree.
    owner_address = Web3.to_checksum_address(owner)
    nonce = w3.eth.get_transaction_count(owner_address, "pending")
    market_at = get_create_address(owner_address, Nonce(nonce + 1))
    game_at = get_create_address(owner_address, Nonce(nonce + 2))
    staking = deploy(
        "Staking", credit, market_at, config.min_worker_stake, config.min_verifier_stake, config.unbonding_period
    )
    market = deploy("JobMarket", credit, registry, staking, game_at, config.market.as_tuple(treasury))
    game = deploy("VerificationGame", market)

    addresses = {
        "Credit": credit,
        "ModelRegistry": registry,
        "Staking": staking,
        "JobMarket": market,
        "VerificationGame": game,
    }
    deployment = Deployment(
        chain_id=w3.eth.chain_id,
        block_number=start_block,
        deployer=owner,
        contracts={n: ContractRecord(address=a, abi=artifacts[n].abi) for n, a in addresses.items()},
        params={
            **config.market.model_dump(),
            "treasury": treasury,
            **config.model_dump(exclude={"market", "treasury"}),
        },
        models=[],
    )
    reg = deployment.contract(w3, "ModelRegistry")
    # The registry sends the market each model's terms (minimum price, active) from now on.
    sender.transact(reg.functions.linkJobMarket(market))
    for m in models:
        sender.transact(
            reg.functions.registerModel(
                bytes.fromhex(m.model_id.removeprefix("0x")),
                m.name,
                _MODES[m.mode],
                bytes.fromhex(m.tolerance_hash.removeprefix("0x")),
                m.min_price,
            )
        )
        deployment.models.append(ModelRecord(**m.model_dump()))
    return deployment


def decoder_for(artifacts: dict[str, Artifact]) -> RevertDecoder:
    """A revert decoder knowing every protocol contract's errors."""
    return RevertDecoder(a.abi for a in artifacts.values())
