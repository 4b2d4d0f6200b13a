"""Inputs too long for calldata, hosted by the gateway itself and addressed by their hash.

A chat's prompt grows with every turn, and each byte carried inline costs gas twice: in the
transaction's calldata and again in the `BatchCreated` event that workers read. An input longer
than `inline_max` is stored here under its keccak-256 and submitted as a URI input: the chain
holds its hash and `{public_url}/v1/inputs/0x{hash}`, and the worker and any verifier fetch it
(each bounded by the protocol's input cap and checked against the hash, as every URI input
is). Being addressed by its hash, a stored input can never be swapped for another. Files are
written whole before they are named, so a reader never sees half of one, and they outlive a
restart: a job submitted before one can still be fetched, audited and re-checked after it.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from eth_utils import keccak

from node.client import UriInput

INPUTS_PATH = "/v1/inputs"
DIGEST = re.compile(r"^0x[0-9a-f]{64}$")


class InputHost:
    def __init__(self, root: Path, public_url: str, inline_max: int):
        self.root, self.public_url, self.inline_max = root, public_url.rstrip("/"), inline_max
        root.mkdir(parents=True, exist_ok=True)

    def place(self, inputs: list[bytes]) -> list[bytes | UriInput]:
        """Each input as it should travel: inline up to `inline_max` bytes, else hosted here."""
        return [data if len(data) <= self.inline_max else self.host(data) for data in inputs]

    def host(self, data: bytes) -> UriInput:
        digest = "0x" + keccak(data).hex()
        path = self.root / digest
        if not path.exists():
            fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".part-")
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, path)  # Atomic: the name appears with the whole content behind it.
        return UriInput(f"{self.public_url}{INPUTS_PATH}/{digest}", data)

    def get(self, digest: str) -> bytes | None:
        """The hosted input with this hash (`0x` and 64 lowercase hex digits), if there is one."""
        if not DIGEST.match(digest):
            raise ValueError(f"{digest!r} is not a keccak-256 hash (0x and 64 lowercase hex digits)")
        path = self.root / digest
        return path.read_bytes() if path.is_file() else None
