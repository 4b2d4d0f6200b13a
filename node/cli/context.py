"""What every command shares: output, connection settings, and the wallet to sign with."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import click
from eth_account.signers.local import LocalAccount
from pydantic import SecretStr

from node.chain.client import ChainClient
from node.cli.errors import WalletError
from node.cli.keystore import Keystore
from node.cli.output import Output


@dataclass
class Ctx:
    out: Output
    rpc_url: str
    deployments: Path
    wallet: str | None
    password_file: Path | None
    keystore: Keystore

    def password(self, confirm: bool = False) -> str:
        """From the password file, then NIGHTSHIFT_PASSWORD, then a prompt."""
        if self.password_file is not None:
            return self.password_file.read_text().rstrip("\n")
        if "NIGHTSHIFT_PASSWORD" in os.environ:
            return os.environ["NIGHTSHIFT_PASSWORD"]
        return str(click.prompt("Password", hide_input=True, confirmation_prompt=confirm, err=True))

    def wallet_name(self) -> str:
        if not self.wallet:
            raise WalletError("no wallet selected: pass --wallet NAME or set NIGHTSHIFT_WALLET")
        return self.wallet

    def account(self) -> LocalAccount:
        return self.keystore.unlock(self.wallet_name(), self.password())

    def chain(self, signer: bool = False) -> ChainClient:
        key = SecretStr("0x" + self.account().key.hex().removeprefix("0x")) if signer else None
        return ChainClient(self.rpc_url, self.deployments, key)

    def address(self) -> str:
        return self.keystore.address(self.wallet_name())


pass_ctx = click.make_pass_decorator(Ctx)
