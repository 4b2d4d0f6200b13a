"""A local anvil process, for devnets, tests and benchmarks."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from node.chain.artifacts import REPO_ROOT
from node.chain.errors import ChainError
from node.chain.transport import connect

DEV_MNEMONIC = "test test test test test test test test test test test junk"
_BUNDLED = REPO_ROOT / "node_modules" / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"


KEPT_STATES = 1024  # Blocks whose state stays queryable: past any reorg or confirmation depth in use.


def anvil_binary() -> str:
    """The anvil executable: on PATH, or the one the npm package installed in the repo."""
    found = shutil.which("anvil")
    if found:
        return found
    if _BUNDLED.exists():
        return str(_BUNDLED)
    raise ChainError("anvil not found: run `make install` (it comes from npm)")


def free_port() -> int:
    """A TCP port that is free on the loopback interface right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def dev_accounts(count: int) -> list[LocalAccount]:
    """anvil's well-known funded development accounts. Never use them outside a devnet."""
    Account.enable_unaudited_hdwallet_features()
    return [Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}") for i in range(count)]


def terminate(proc: subprocess.Popen[bytes], kill: bool = False, timeout: float = 20.0) -> None:
    """Stops a child process (SIGTERM, or SIGKILL with `kill`) and reaps it; SIGKILL after `timeout`."""
    if proc.poll() is not None:
        return
    if kill:
        proc.kill()
    else:
        proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class Anvil:
    """Starts anvil on a free loopback port and stops it; usable as a context manager."""

    def __init__(
        self,
        *,
        port: int | None = None,
        accounts: int = 20,
        block_time: float | None = None,
        log_path: Path | None = None,
        detach: bool = False,
        steps_tracing: bool = False,
    ):
        self.port = port or free_port()
        self._detach = detach
        self._accounts = accounts
        self._block_time = block_time
        self._log_path = log_path
        self._steps_tracing = steps_tracing  # Opcode-level debug_traceTransaction (benchmarks).
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The HTTP RPC URL."""
        return f"http://127.0.0.1:{self.port}"

    def web3(self) -> Web3:
        """A web3 client for this chain."""
        return connect(self.url)

    def start(self, timeout_s: float = 20.0) -> Anvil:
        """Launches anvil and waits until it answers RPC."""
        cmd = [anvil_binary(), "--host", "127.0.0.1", "--port", str(self.port), "--accounts", str(self._accounts)]
        cmd += ["--mnemonic", DEV_MNEMONIC, "--gas-limit", "100000000"]
        # Past states stay in memory, the most recent only: by default anvil writes older ones to
        # ~/.foundry/anvil/tmp, and a long soak or a killed devnet left gigabytes there.
        cmd += ["--prune-history", str(KEPT_STATES)]
        if self._steps_tracing:
            cmd.append("--steps-tracing")
        if self._block_time:
            # Mixed mining: a block for every transaction, and one every `block_time` seconds when
            # idle, like a real chain, so seed blocks and deadlines arrive without traffic.
            cmd += ["--block-time", str(self._block_time), "--mixed-mining"]
        out = open(self._log_path, "ab") if self._log_path else subprocess.DEVNULL  # noqa: SIM115
        self._proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=self._detach)
        w3 = self.web3()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise ChainError(f"anvil exited with status {self._proc.returncode}")
            try:
                _ = w3.eth.block_number
                return self
            except Exception:  # Not listening yet.
                time.sleep(0.05)
        self.stop()
        raise ChainError(f"anvil did not answer on {self.url} within {timeout_s}s")

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def stop(self) -> None:
        """Terminates anvil and waits for it."""
        if self._proc is not None:
            terminate(self._proc)
        self._proc = None

    def __enter__(self) -> Anvil:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
