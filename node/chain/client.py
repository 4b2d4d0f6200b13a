"""The shared chain client: one web3 connection, the deployed contracts, and this node's sender."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from pydantic import SecretStr
from web3.contract import Contract

from node.chain.deployments import Deployment
from node.chain.errors import ChainError, RevertDecoder, RpcUnavailableError
from node.chain.market import Market
from node.chain.transport import connect, raw_rpc
from node.chain.tx import TxSender


class ChainClient:
    """Contracts from a deployments file on an RPC endpoint, and a sender if a key is given."""

    def __init__(
        self, rpc_url: str, deployments: Path, private_key: SecretStr | None = None, rpc_timeout: float = 30.0
    ):
        self.w3 = connect(rpc_url, rpc_timeout)
        # Addresses here are never ENS names, and the chain id is checked once below and signed
        # into every transaction: these two middlewares only cost an RPC round trip per call.
        self.w3.middleware_onion.remove("ens_name_to_address")
        self.w3.middleware_onion.remove("validation")
        try:
            connected = self.w3.is_connected()
        except Exception:  # Any transport error means unreachable.
            connected = False
        if not connected:
            raise RpcUnavailableError(f"cannot reach the RPC at {rpc_url}")
        self.deployment = Deployment.load(deployments)
        self.deployment.check_chain(self.w3)
        self.market = self.deployment.contract(self.w3, "JobMarket")
        self.game = self.deployment.contract(self.w3, "VerificationGame")
        self.staking = self.deployment.contract(self.w3, "Staking")
        self.registry = self.deployment.contract(self.w3, "ModelRegistry")
        self.credit = self.deployment.contract(self.w3, "Credit")
        self.decoder = RevertDecoder(self.deployment.abis())
        self.view = Market(self.market, self.game, self.staking)
        self.account: LocalAccount | None = Account.from_key(private_key.get_secret_value()) if private_key else None
        self.sender = TxSender(self.w3, self.account, self.decoder) if self.account else None

    def __repr__(self) -> str:
        return f"ChainClient(chain={self.deployment.chain_id}, account={self.address if self.account else None})"

    @property
    def address(self) -> str:
        if self.account is None:
            raise ChainError("no key configured for this node")
        return str(self.account.address)

    def require_sender(self) -> TxSender:
        if self.sender is None:
            raise ChainError("no key configured for this node")
        return self.sender

    def registered_models(self) -> dict[str, dict[str, Any]]:
        """Registered models by name: id, mode, tolerance hash, minimum price, active."""
        models = {}
        for model_id in self.registry.functions.modelIds().call():
            name, mode, min_price, active, tolerance_hash = self.registry.functions.getModel(model_id).call()
            models[name] = {
                "model_id": bytes(model_id),
                "mode": mode,
                "tolerance_hash": bytes(tolerance_hash),
                "min_price": min_price,
                "active": active,
            }
        return models

    def rpc(self, method: str, params: list[Any]) -> Any:
        """A raw JSON-RPC call that skips web3's result formatters, for hot paths (log polling)."""
        return raw_rpc(self.w3, method, params)

    def chain_time(self) -> int:
        """The latest block's timestamp: deadlines are compared against chain time."""
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def contract(self, name: str) -> Contract:
        return self.deployment.contract(self.w3, name)
