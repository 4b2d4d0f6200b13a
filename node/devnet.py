"""A local devnet: anvil, the deployed protocol with the real models registered, funded and staked
accounts, and worker and verifier nodes as separate processes. All its state lives in one folder.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from eth_account.signers.local import LocalAccount

from node.chain.anvil import Anvil, dev_accounts, free_port, terminate
from node.chain.artifacts import load_artifacts
from node.chain.client import ChainClient
from node.chain.deploy import CREDIT_UNIT, DeployConfig, MarketParams, ModelSpec, decoder_for, deploy_protocol
from node.chain.market import Market
from node.chain.protocol import Role
from node.chain.tx import TxSender
from node.config import DEFAULT_MODELS
from node.errors import NightshiftError
from node.inference.base import resolve_plugin

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
WORKER, VERIFIER = Role.WORKER, Role.VERIFIER
ACCOUNTS = 44  # 0 deployer, 1 treasury, 2-5 requesters, 6-15 workers, 16-43 verifiers (or more workers).


def model_specs(names: list[str]) -> list[ModelSpec]:
    """Registry entries for the named plug-ins (loads each to hash its weights)."""
    specs = []
    for name in names:
        plugin = resolve_plugin(name)()
        plugin.load()
        specs.append(
            ModelSpec(
                name=plugin.name,
                model_id="0x" + plugin.model_id.hex(),
                mode=plugin.policy.mode,
                tolerance_hash="0x" + plugin.policy.tolerance_hash().hex(),
                min_price=plugin.min_price,
            )
        )
    return specs


@dataclass
class NodeProcess:
    kind: str
    name: str
    account: LocalAccount
    data_dir: Path
    log_path: Path
    env: dict[str, str]
    port: int | None = None
    proc: subprocess.Popen[bytes] | None = None
    module: str = ""  # What `python -m` runs: the kind's own entry unless a test wraps it (`faults`).

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


@dataclass
class Devnet:
    """Start with `up()`, add nodes with `start_worker` / `start_verifier`, end with `down()`."""

    root: Path
    market: MarketParams = field(default_factory=MarketParams)
    models: list[str] = field(default_factory=lambda: list(DEFAULT_MODELS))
    unbonding_period: int = 3600
    port: int | None = None
    detach: bool = False  # Detached processes outlive this Python process (`nightshift devnet up`).
    nodes: list[NodeProcess] = field(default_factory=list)

    def up(self) -> Devnet:
        self.root.mkdir(parents=True, exist_ok=True)
        self.anvil = Anvil(
            port=self.port, accounts=ACCOUNTS, block_time=1, log_path=self.root / "anvil.log", detach=self.detach
        ).start()
        self.w3 = self.anvil.web3()
        self.accounts = dev_accounts(ACCOUNTS)
        artifacts = load_artifacts()
        self._decoder = decoder_for(artifacts)
        self.senders = [TxSender(self.w3, a, self._decoder) for a in self.accounts]
        config = DeployConfig(
            treasury=self.accounts[1].address, unbonding_period=self.unbonding_period, market=self.market
        )
        self.specs = model_specs(self.models)
        self.deployment = deploy_protocol(self.w3, self.senders[0], config, self.specs, artifacts)
        self.deployments_path = self.root / "deployments.json"
        self.deployment.save(self.deployments_path)
        self.credit = self.deployment.contract(self.w3, "Credit")
        self.staking = self.deployment.contract(self.w3, "Staking")
        self.market_contract = self.deployment.contract(self.w3, "JobMarket")
        self.game = self.deployment.contract(self.w3, "VerificationGame")
        self.view = Market(self.market_contract, self.game, self.staking)
        return self

    def client(self) -> ChainClient:
        """A read-only chain client on this devnet."""
        return ChainClient(self.anvil.url, self.deployments_path)

    def save_state(self) -> Path:
        """Writes `devnet.json` (pids, URLs, addresses) so another process can report on it and stop it."""
        state = {
            "rpc_url": self.anvil.url,
            "anvil_pid": self.anvil.pid,
            "deployments": str(self.deployments_path),
            "nodes": [
                {"name": n.name, "kind": n.kind, "pid": n.proc.pid if n.proc else None, "address": n.account.address,
                 "url": n.url if n.port else None, "log": str(n.log_path)}
                for n in self.nodes
            ],
        }  # fmt: skip
        path = self.root / "devnet.json"
        path.write_text(json.dumps(state, indent=2))
        return path

    def down(self) -> None:
        for node in self.nodes:
            self.stop(node)
        self.anvil.stop()

    # ------------------------------------------------------------ accounts

    def fund(self, index: int, credits: int) -> None:
        self.senders[0].transact(self.credit.functions.mint(self.accounts[index].address, credits * CREDIT_UNIT))

    def stake(self, index: int, role: int, credits: int, url: str = "") -> None:
        sender = self.senders[index]
        self.fund(index, credits)
        sender.transact(self.credit.functions.approve(self.staking.address, 2**256 - 1))
        sender.transact(self.staking.functions.stake(role, credits * CREDIT_UNIT, url))

    # ------------------------------------------------------------ nodes

    def start_worker(self, name: str, index: int, *, stake: int = 1000, module: str = "", **env: Any) -> NodeProcess:
        """A worker staking `stake` credits from account `index`; `env` sets `NIGHTSHIFT_*`
        settings, `module` another entry point (`faults.WORKER`)."""
        port = free_port()
        node = self._node("worker", name, index, port, env, module)
        node.env["NIGHTSHIFT_HTTP_PORT"] = str(port)
        if self.view.stake(node.account.address, WORKER).amount == 0:
            self.stake(index, WORKER, stake, node.url)
        return self.launch(node)

    def start_verifier(self, name: str, index: int, *, stake: int = 2000, module: str = "", **env: Any) -> NodeProcess:
        port = free_port()
        if "models" in env:  # Test verifiers that serve one model of the devnet's take the risk.
            env = {"partial_models": True, **env}
        node = self._node("verifier", name, index, port, env, module)
        node.env["NIGHTSHIFT_HTTP_PORT"] = str(port)
        if self.view.stake(node.account.address, VERIFIER).amount == 0:
            self.stake(index, VERIFIER, stake)
        return self.launch(node)

    def start_gateway(self, name: str, index: int, **env: Any) -> NodeProcess:
        """The OpenAI-compatible gateway, paying for its requests from account `index`."""
        port = free_port()
        node = self._node("gateway", name, index, port, {"gateway_port": port, **env})
        return self.launch(node)

    def _node(
        self, kind: str, name: str, index: int, port: int | None, env: dict[str, Any], module: str = ""
    ) -> NodeProcess:
        account = self.accounts[index]
        data_dir = self.root / name
        node_env = {
            "NIGHTSHIFT_RPC_URL": self.anvil.url,
            "NIGHTSHIFT_DEPLOYMENTS": str(self.deployments_path),
            "NIGHTSHIFT_PRIVATE_KEY": "0x" + account.key.hex().removeprefix("0x"),
            "NIGHTSHIFT_DATA_DIR": str(data_dir),
            "NIGHTSHIFT_MODELS": ",".join(self.models),
            "NIGHTSHIFT_POLL_INTERVAL": "0.1",
            "NIGHTSHIFT_ALLOW_PRIVATE_PEERS": "true",  # Every node of a devnet is on 127.0.0.1.
            **{f"NIGHTSHIFT_{k.upper()}": str(v) for k, v in env.items()},
        }
        module = module or {"worker": "node", "verifier": "verifier", "gateway": "node.gateway"}[kind]
        node = NodeProcess(kind, name, account, data_dir, self.root / f"{name}.log", node_env, port, module=module)
        self.nodes.append(node)
        return node

    def launch(self, node: NodeProcess, timeout: float = 90.0) -> NodeProcess:
        """Starts (or restarts) a node's process and waits until it is ready."""
        env = {**os.environ, **node.env, "PYTHONUNBUFFERED": "1"}
        with open(node.log_path, "ab") as out:
            command = [sys.executable, "-m", node.module]
            detach = self.detach
            node.proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out, start_new_session=detach)
        ready = f"{node.kind} ready".encode()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not node.alive():
                raise NightshiftError(f"{node.name} exited: {node.log_path.read_text()[-2000:]}")
            if ready in node.log_path.read_bytes() and (node.port is None or self._healthy(node)):
                return node
            time.sleep(0.2)
        raise NightshiftError(f"{node.name} not ready after {timeout}s")

    def _healthy(self, node: NodeProcess) -> bool:
        try:
            return httpx.get(f"{node.url}/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self, node: NodeProcess, kill: bool = False) -> None:
        """Stops a node: SIGTERM for a clean shutdown, or SIGKILL to simulate a crash."""
        if node.proc is not None:
            terminate(node.proc, kill=kill)
