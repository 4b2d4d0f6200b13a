"""`nightshift worker run`, `nightshift verifier run` and `nightshift devnet up|status|down`."""

from __future__ import annotations

import json
import os
import signal
import time
import tomllib
from pathlib import Path
from typing import Any

import click
import httpx
from pydantic import SecretStr, ValidationError

from node.chain.deploy import MarketParams
from node.cli.context import Ctx, pass_ctx
from node.cli.errors import INPUT, CliError, InputError
from node.cli.keystore import home
from node.config import DEFAULT_MODELS, GatewaySettings, VerifierSettings, WorkerSettings


def _settings(cls: type[Any], ctx: Ctx, config: Path | None, flags: dict[str, Any]) -> Any:
    """Settings with precedence flags > NIGHTSHIFT_* environment > config file (TOML) > defaults.
    The key comes from the wallet's keystore."""
    values: dict[str, Any] = {}
    if config is not None:
        try:
            values = tomllib.loads(config.read_text())
        except (tomllib.TOMLDecodeError, OSError) as exc:
            raise InputError(f"bad config file {config}: {exc}") from None
        values = {k: v for k, v in values.items() if f"NIGHTSHIFT_{k.upper()}" not in os.environ}
    values.update({k: v for k, v in flags.items() if v is not None})
    values["private_key"] = SecretStr("0x" + ctx.account().key.hex().removeprefix("0x"))
    values.setdefault("rpc_url", ctx.rpc_url)
    values.setdefault("deployments", ctx.deployments)
    try:
        return cls(**values)
    except ValidationError as exc:
        raise InputError(f"invalid configuration: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}") from None


config_option = click.option(
    "--config", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="TOML file."
)


@click.group()
def worker() -> None:
    """Run a worker node."""


@worker.command("run")
@config_option
@click.option("--models", help="Comma-separated model names to serve.")
@click.option("--http-port", type=click.IntRange(1, 65535))
@click.option("--public-url", help="The URL registered on chain, if not http://host:port.")
@click.option("--data-dir", type=click.Path(path_type=Path))
@pass_ctx
def worker_run(ctx: Ctx, config: Path | None, **flags: Any) -> None:
    """Take jobs, run them, commit results, serve outputs; until SIGINT or SIGTERM."""
    from node.worker.run import run_worker

    settings = _settings(WorkerSettings, ctx, config, flags)
    raise SystemExit(run_worker(settings))


@click.group()
def verifier() -> None:
    """Run a verifier node."""


@verifier.command("run")
@config_option
@click.option("--models", help="Comma-separated model names to verify.")
@click.option("--challenge-rate", type=click.FloatRange(0, 1), help="Fraction of unaudited jobs to check.")
@click.option("--data-dir", type=click.Path(path_type=Path))
@pass_ctx
def verifier_run(ctx: Ctx, config: Path | None, **flags: Any) -> None:
    """Verify audits, vote in disputes, challenge what fails; until SIGINT or SIGTERM."""
    from verifier.run import run_verifier

    raise SystemExit(run_verifier(_settings(VerifierSettings, ctx, config, flags)))


@click.group()
def devnet() -> None:
    """A local devnet: anvil, the contracts, the models, and nodes as separate processes."""


def _dir(path: Path | None) -> Path:
    return path or home() / "devnet"


dir_option = click.option("--dir", "root", type=click.Path(file_okay=False, path_type=Path), help="State folder.")


@devnet.command("up")
@click.option("--workers", default=1, show_default=True)
@click.option("--verifiers", default=3, show_default=True, help="a dispute needs a panel: 3 or more")
@click.option("--port", type=click.IntRange(1, 65535), default=8545, show_default=True)
@click.option(
    "--models",
    default=",".join(DEFAULT_MODELS),
    show_default=True,
    help="models to register and serve: names, or paths of Hugging Face causal LM folders",
)
@dir_option
@pass_ctx
def devnet_up(ctx: Ctx, workers: int, verifiers: int, port: int, models: str, root: Path | None) -> None:
    """Start anvil, deploy, register the models, fund and stake the nodes, and start them."""
    from node.devnet import Devnet
    from node.inference.base import resolve_plugin
    from node.inference.errors import InferenceError

    root = _dir(root)
    if (root / "devnet.json").exists() and _alive(_state(root).get("anvil_pid")):
        raise CliError(f"a devnet is already running from {root}: `nightshift devnet down` first")
    market = MarketParams(challenge_window=30, verdict_window=60)
    names = [m.strip() for m in models.split(",") if m.strip()]
    try:
        for name in names:
            resolve_plugin(name)
    except InferenceError as exc:
        raise CliError(str(exc), INPUT) from None
    net = Devnet(root, market=market, port=port, detach=True, models=names)
    with ctx.out.console.status("starting anvil, deploying, registering models...", spinner="dots"):
        net.up()
    try:
        for i in range(workers):
            with ctx.out.console.status(f"starting worker {i + 1} of {workers}...", spinner="dots"):
                net.start_worker(f"worker-{i + 1}", 6 + i)
        for i in range(verifiers):
            with ctx.out.console.status(f"starting verifier {i + 1} of {verifiers}...", spinner="dots"):
                net.start_verifier(f"verifier-{i + 1}", 16 + i)
    except Exception:
        net.down()
        raise
    net.save_state()
    ctx.out.result(_status(root))


@devnet.command("status")
@dir_option
@pass_ctx
def devnet_status(ctx: Ctx, root: Path | None) -> None:
    """Is the devnet up, which nodes run, and are they healthy."""
    ctx.out.result(_status(_dir(root)))


@devnet.command("down")
@dir_option
@pass_ctx
def devnet_down(ctx: Ctx, root: Path | None) -> None:
    """Stop every node, then anvil, and wait until no process is left."""
    root = _dir(root)
    state = _state(root)
    pids = [n["pid"] for n in state["nodes"]] + [state["anvil_pid"]]
    for group in ([n["pid"] for n in state["nodes"]], [state["anvil_pid"]]):
        for pid in group:
            _terminate(pid)
    leftover = [pid for pid in pids if _alive(pid)]
    (root / "devnet.json").unlink()
    ctx.out.result({"stopped": len(pids) - len(leftover), "left running": leftover})


def _state(root: Path) -> dict[str, Any]:
    path = root / "devnet.json"
    if not path.exists():
        raise CliError(f"no devnet state in {root}: `nightshift devnet up` first", INPUT)
    state: dict[str, Any] = json.loads(path.read_text())
    return state


def _status(root: Path) -> dict[str, Any]:
    state = _state(root)
    nodes = []
    for n in state["nodes"]:
        healthy = "-"
        if n["url"] and _alive(n["pid"]):
            try:
                healthy = "ok" if httpx.get(f"{n['url']}/health", timeout=2).status_code == 200 else "down"
            except httpx.HTTPError:
                healthy = "down"
        nodes.append(
            f"{n['name']} pid {n['pid']} {'running' if _alive(n['pid']) else 'stopped'} {n['url'] or ''} {healthy}"
        )
    return {
        "rpc_url": state["rpc_url"],
        "anvil": "running" if _alive(state["anvil_pid"]) else "stopped",
        "deployments": state["deployments"],
        "nodes": nodes,
    }


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped) counts as stopped.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def _terminate(pid: int, timeout: float = 20.0) -> None:
    if not _alive(pid):
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)


@click.group()
def gateway() -> None:
    """Run the OpenAI-compatible gateway, paying for jobs from the wallet."""


@gateway.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8080, show_default=True)
@click.option("--max-price", help="Credits per job (default: NIGHTSHIFT_GATEWAY_PRICE, or 0.05).")
@click.option("--audit-rate", type=click.FloatRange(0, 1), default=0.0, help="Raise the audit probability.")
@pass_ctx
def gateway_run(ctx: Ctx, host: str, port: int, max_price: str | None, audit_rate: float) -> None:
    """Serve POST /v1/embeddings and GET /v1/models until interrupted. Clients must send the
    key in NIGHTSHIFT_GATEWAY_API_KEY, if it is set, as a bearer token."""
    import uvicorn

    from node.cli.account import to_units
    from node.client import RequesterClient
    from node.gateway.app import GatewayConfig, create_gateway
    from node.logs import configure_logging

    settings = GatewaySettings()
    price = to_units(max_price) if max_price is not None else None
    client = RequesterClient(ctx.chain(signer=True))
    configure_logging()
    config = GatewayConfig.from_settings(settings, host, port, price, round(audit_rate * 10_000))
    app = create_gateway(client, config)
    uvicorn.run(app, host=host, port=port, log_level="warning")
