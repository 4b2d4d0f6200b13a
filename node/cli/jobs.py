"""`nightshift job ...` and `nightshift jobs list`: pay for jobs, follow them, check results."""

from __future__ import annotations

import contextlib
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click
from eth_utils import keccak
from pydantic import ValidationError

from node.chain.client import ChainClient
from node.chain.protocol import batch_of, format_job, index_of, parse_job
from node.cli.account import credits, to_units
from node.cli.context import Ctx, pass_ctx
from node.cli.errors import REJECTED, TIMEOUT, VERIFICATION, CliError, InputError
from node.client import COMMITTED, ClientError, RequesterClient, audit_status_name, batch_status_name
from node.inference.base import ModelPlugin, plugin_classes


def parse_job_id(text: str) -> int:
    """`12.3` (batch 12, job 3) or the raw id."""
    try:
        return parse_job(text)
    except ValueError:
        raise InputError(f"not a job id: {text!r} (use BATCH.INDEX, for example 3.0)") from None


show_job_id = format_job


def registered_plugin(chain: ChainClient, model: str) -> type[ModelPlugin]:
    """The plug-in of a model registered on this chain; an input error for any other name."""
    registered = chain.registered_models()
    if model not in registered:
        raise InputError(f"unknown model {model!r}; registered: {', '.join(sorted(registered))}")
    plugin = plugin_classes().get(model)
    if plugin is None:
        raise InputError(f"model {model!r} is registered but this client has no plug-in for it")
    return plugin


def _inputs(plugin: type[ModelPlugin], text: str | None, file: Path | None, jsonl: Path | None) -> list[bytes]:
    given = [x for x in (text, file, jsonl) if x is not None]
    if len(given) != 1:
        raise InputError("give exactly one of --input, --input-file and --inputs-file")
    try:
        if text is not None:
            return [plugin.input_from_json(text)]
        if file is not None:
            return [file.read_bytes()]
        assert jsonl is not None
        lines = jsonl.read_text().splitlines()
    except (ValueError, OSError) as exc:
        raise InputError(f"bad input: {_reason(exc)}") from None
    inputs = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            inputs.append(plugin.input_from_json(json.loads(line)))
        except ValueError as exc:
            raise InputError(f"{jsonl}, line {number}: {_reason(exc)}") from None
    if not inputs:
        raise InputError(f"{jsonl} has no input (one JSON value a line)")
    return inputs


def _reason(exc: Exception) -> str:
    """An input's error in one line: a validation error's first problem, with where it is."""
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        return f"{where}: {first['msg']}" if where else str(first["msg"])
    return " ".join(str(exc).split())


@click.group()
def job() -> None:
    """Submit a job and follow it."""


@job.command()
@click.option(
    "--model", required=True, help="A registered model name, e.g. all-MiniLM-L6-v2, digits-mlp or pydoc-chat."
)
@click.option(
    "--input",
    "text",
    help="One input: text (a prompt for pydoc-chat), or for digits-mlp 64 comma-separated intensities.",
)
@click.option(
    "--input-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="One input, raw bytes."
)
@click.option(
    "--inputs-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSONL, one input per line (for pydoc-chat a prompt string or a request object).",
)
@click.option("--max-price", required=True, help="Credits per job.")
@click.option(
    "--audit-rate",
    type=click.FloatRange(0, 1),
    default=None,
    help="Raise the audit probability (costs the verifier fee).",
)
@click.option("--timeout", default=600, show_default=True, help="Seconds a worker has to commit after taking the jobs.")
@click.option(
    "--wait/--no-wait", default=False, help="Wait for the results, check them against the chain and print them."
)
@click.option("--wait-timeout", default=120.0, show_default=True)
@pass_ctx
def submit(
    ctx: Ctx, model: str, text: str | None, input_file: Path | None, inputs_file: Path | None,
    max_price: str, audit_rate: float | None, timeout: int, wait: bool, wait_timeout: float,
) -> None:  # fmt: skip
    """Escrow payment for one batch of jobs; print the job ids at once."""
    chain = ctx.chain(signer=True)
    plugin = registered_plugin(chain, model)
    inputs = _inputs(plugin, text, input_file, inputs_file)
    price = to_units(max_price)
    least = max(plugin.min_job_price(x) for x in inputs)
    if price < least:  # A worker would skip it; the chain only knows the per-job floor.
        raise CliError(
            f"price {credits(price)} credits is below the model's minimum of {credits(least)} for these inputs",
            REJECTED,
        )
    client = RequesterClient(chain)
    audit_bps = 0 if audit_rate is None else round(audit_rate * 10_000)
    sub = client.submit(model, inputs, price, timeout=timeout, audit_bps=audit_bps)
    ids = [show_job_id(j) for j in sub.job_ids]
    ctx.out.info(f"submitted {len(ids)} job(s) in batch {sub.batch_id}: {', '.join(ids)}")
    if not wait:
        ctx.out.result({"batch": sub.batch_id, "jobs": ids, "tx": sub.tx_hash})
        return
    with ctx.out.console.status("waiting for a worker to take the batch and commit results...", spinner="dots"):
        try:
            client.wait(sub.batch_id, set(COMMITTED), timeout=wait_timeout)
        except ClientError as exc:
            raise CliError(str(exc), TIMEOUT) from None
    results = [{"job": show_job_id(j), "result": plugin.output_to_json(_fetch(client, j))} for j in sub.job_ids]
    ctx.out.result({"batch": sub.batch_id, "results": results} if ctx.out.as_json else results)


def _fetch(client: RequesterClient, job_id: int) -> bytes:
    try:
        return client.fetch(job_id)
    except ClientError as exc:
        raise CliError(str(exc), VERIFICATION) from None


@job.command()
@click.argument("job_id")
@pass_ctx
def status(ctx: Ctx, job_id: str) -> None:
    """A job's status, worker and audit."""
    chain, jid = ctx.chain(), parse_job_id(job_id)
    ctx.out.result(_describe(chain, jid))


@job.command()
@click.argument("job_id")
@pass_ctx
def result(ctx: Ctx, job_id: str) -> None:
    """Fetch a job's result from its worker and check it against the hash on chain."""
    chain, jid = ctx.chain(), parse_job_id(job_id)
    plugin = registered_plugin(chain, _batch_event(chain, batch_of(jid))["model"])
    output = _fetch(RequesterClient(chain), jid)
    ctx.out.result(
        {"job": show_job_id(jid), "output_hash": "0x" + keccak(output).hex(), "result": plugin.output_to_json(output)}
    )


@job.command()
@click.argument("job_id")
@pass_ctx
def verify(ctx: Ctx, job_id: str) -> None:
    """Re-verify a past job: re-run the model locally on the input from chain and compare."""
    chain, jid = ctx.chain(), parse_job_id(job_id)
    client = RequesterClient(chain)
    with ctx.out.console.status("re-running the model locally...", spinner="dots"):
        try:
            receipt = client.verify(jid)
        except ClientError as exc:
            raise CliError(str(exc), VERIFICATION) from None
    row = {**asdict(receipt), "job": show_job_id(jid), "payment": credits(receipt.payment)}
    del row["job_id"]
    ctx.out.result(row, title="verification receipt")
    if not receipt.verified:
        raise CliError(f"job {show_job_id(jid)} fails re-verification: {receipt.reason}", VERIFICATION)


def _batch_event(chain: ChainClient, batch_id: int) -> dict[str, Any]:
    try:
        return RequesterClient(chain).batch_request(batch_id)
    except ClientError as exc:
        raise InputError(str(exc)) from None


def _describe(chain: ChainClient, jid: int) -> dict[str, Any]:
    created = _batch_event(chain, batch_of(jid))
    index = index_of(jid)
    if index >= len(created["inputs"]):
        raise InputError(f"batch {batch_of(jid)} has no job {index}")
    # The worker from the chain's record while the batch is stored; a batch finalized with no
    # job audited has left storage, and its commit event names the worker.
    worker = chain.view.job_batch(jid).worker
    if int(worker, 16) == 0:
        with contextlib.suppress(ClientError):  # Not committed yet: no worker to show.
            worker, _ = RequesterClient(chain).committed(batch_of(jid))
    audit_status = chain.view.audit_status(jid)
    return {
        "job": show_job_id(jid),
        "model": created["model"],
        "model_id": "0x" + bytes(created["modelId"]).hex(),
        "status": RequesterClient(chain).job_status(jid),
        "worker": worker,
        "audit": audit_status_name(audit_status),
        "payment": credits(created["price"]),
        "requester": created["requester"],
    }


@click.group()
def jobs() -> None:
    """Your jobs."""


@jobs.command("list")
@pass_ctx
def list_(ctx: Ctx) -> None:
    """Batches this wallet submitted, with their status."""
    chain, address = ctx.chain(), ctx.address()
    names = {v["model_id"]: k for k, v in chain.registered_models().items()}
    rows = []
    logs = chain.market.events.BatchCreated().get_logs(
        argument_filters={"requester": address}, from_block=chain.deployment.block_number
    )
    for log in logs:
        a = log["args"]
        rows.append(
            {
                "batch": a["batchId"],
                "model": names.get(bytes(a["modelId"]), "?"),
                "jobs": len(a["inputs"]),
                "price": credits(a["price"]),
                "status": batch_status_name(chain.view.batch_status(a["batchId"])),
            }
        )
    ctx.out.result(rows, title=f"jobs of {address}")
