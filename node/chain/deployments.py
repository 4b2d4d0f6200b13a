"""The deployments file: chain id, contract addresses and ABIs. Nodes and the CLI read it.

It holds ABIs too, so a node pointed at another EVM chain needs only an RPC URL and this file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from web3 import Web3
from web3.contract import Contract

from node.chain.errors import DeploymentError


class ContractRecord(BaseModel):
    """One deployed contract."""

    address: str
    abi: list[dict[str, Any]]


class ModelRecord(BaseModel):
    """A model registered at deployment."""

    name: str
    model_id: str
    mode: str
    tolerance_hash: str
    min_price: int


class Deployment(BaseModel):
    """Everything a node needs to find the protocol on a chain."""

    chain_id: int
    block_number: int
    deployer: str
    contracts: dict[str, ContractRecord]
    params: dict[str, Any]
    models: list[ModelRecord]

    def contract(self, w3: Web3, name: str) -> Contract:
        """A web3 contract object for `name` (Credit, Staking, ModelRegistry, JobMarket or VerificationGame)."""
        record = self.contracts[name]
        return w3.eth.contract(address=Web3.to_checksum_address(record.address), abi=record.abi)

    def abis(self) -> list[list[dict[str, Any]]]:
        """All ABIs, for revert decoding."""
        return [record.abi for record in self.contracts.values()]

    def save(self, path: Path) -> None:
        """Writes the file atomically."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(self.model_dump_json(indent=2))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> Deployment:
        """Reads a deployments file, with a one-line error if it is missing or malformed."""
        try:
            return cls.model_validate(json.loads(path.read_text()))
        except FileNotFoundError:
            raise DeploymentError(f"deployments file not found: {path}") from None
        except (json.JSONDecodeError, ValidationError) as exc:
            raise DeploymentError(f"deployments file {path} is malformed: {exc}") from None

    def check_chain(self, w3: Web3) -> None:
        """Refuses a deployments file written for another chain."""
        actual = w3.eth.chain_id
        if actual != self.chain_id:
            raise DeploymentError(f"deployments file is for chain {self.chain_id}, but the RPC serves chain {actual}")
