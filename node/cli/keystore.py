"""Encrypted keystores (Web3 Secret Storage v3, readable by geth and MetaMask) in a per-user folder.

The folder is `$NIGHTSHIFT_HOME/keystores` (default `~/.nightshift/keystores`). Passwords come
from a prompt, a password file, or `NIGHTSHIFT_PASSWORD`, never from a flag.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from node.cli.errors import WalletError
from node.config import nightshift_home

NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def home() -> Path:
    return nightshift_home()


class Keystore:
    def __init__(self, folder: Path | None = None):
        self.folder = folder or home() / "keystores"

    def path(self, name: str) -> Path:
        if not NAME.match(name):
            raise WalletError(f"invalid wallet name {name!r}: use letters, digits, '-' and '_'")
        return self.folder / f"{name}.json"

    def names(self) -> list[str]:
        return sorted(p.stem for p in self.folder.glob("*.json")) if self.folder.exists() else []

    def address(self, name: str) -> str:
        return "0x" + str(self._read(name)["address"]).removeprefix("0x")

    def create(self, name: str, account: LocalAccount, password: str) -> Path:
        path = self.path(name)
        if path.exists():
            raise WalletError(f"wallet {name!r} already exists")
        self.folder.mkdir(parents=True, exist_ok=True)
        encrypted = Account.encrypt(account.key, password)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(encrypted))
        tmp.chmod(0o600)
        tmp.replace(path)
        return path

    def unlock(self, name: str, password: str) -> LocalAccount:
        try:
            key = Account.decrypt(self._read(name), password)
        except ValueError:
            raise WalletError(f"wrong password for wallet {name!r}") from None
        return Account.from_key(key)

    def export(self, name: str) -> str:
        """The keystore JSON, still encrypted."""
        return json.dumps(self._read(name))

    def delete(self, name: str) -> None:
        path = self.path(name)
        if not path.exists():
            raise WalletError(f"no wallet named {name!r}")
        path.unlink()

    def _read(self, name: str) -> dict[str, object]:
        path = self.path(name)
        if not path.exists():
            known = ", ".join(self.names()) or "none"
            raise WalletError(f"no wallet named {name!r} (wallets: {known})")
        data: dict[str, object] = json.loads(path.read_text())
        return data


def account_from_secret(secret: str) -> LocalAccount:
    """A private key (hex) or a BIP-39 mnemonic, as typed at the import prompt."""
    secret = secret.strip()
    try:
        if len(secret.split()) >= 12:
            Account.enable_unaudited_hdwallet_features()
            return Account.from_mnemonic(secret)
        return Account.from_key(secret)
    except Exception:  # eth-account raises several types for malformed secrets.
        raise WalletError("that is neither a private key nor a valid mnemonic") from None
