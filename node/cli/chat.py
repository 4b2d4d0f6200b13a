"""`nightshift chat`: an interactive chat with a text model, each answer a paid job, streamed.

Every turn is one generation job with the whole conversation so far as its messages, escrowed
from the wallet at the model's price per token times `--max-tokens`. The answer is shown as the
worker streams it, then checked against the commitment on chain: the conversation carries on
with the committed text, and a stream that differs from it ends the chat as a failed
verification (exit 7).
"""

from __future__ import annotations

import secrets
import sys

import click

from node.chain.protocol import batch_of, format_job
from node.cli.account import credits, to_units
from node.cli.context import Ctx, pass_ctx
from node.cli.errors import TIMEOUT, VERIFICATION, CliError, InputError
from node.cli.jobs import registered_plugin
from node.client import COMMITTED, ClientError, RequesterClient
from node.inference.errors import OutputDecodeError
from node.inference.generation import Finish, Generation, GenerationRequest
from node.inference.models.causal_lm import CausalLM

QUIT = {"/exit", "/quit"}


@click.command()
@click.option("--model", required=True, help="A registered text model, e.g. pydoc-chat.")
@click.option("--system", default=None, help="A system message to start the conversation with.")
@click.option("--max-tokens", type=click.IntRange(1, 4096), default=64, show_default=True)
@click.option("--temperature", type=click.FloatRange(0, 2), default=0.7, show_default=True)
@click.option("--top-p", type=click.FloatRange(0, 1, min_open=True), default=0.95, show_default=True)
@click.option(
    "--seed", type=click.IntRange(0, 2**63 - 1), default=None, help="Fixed seed (default: a fresh one a turn)."
)
@click.option("--price", "per_token", default=None, help="Credits per token (default: the model's minimum).")
@click.option("--wait-timeout", default=120.0, show_default=True)
@pass_ctx
def chat(
    ctx: Ctx, model: str, system: str | None, max_tokens: int, temperature: float, top_p: float,
    seed: int | None, per_token: str | None, wait_timeout: float,
) -> None:  # fmt: skip
    """Chat with a text model, one paid and verified job a turn; /exit or end of input stops."""
    chain = ctx.chain(signer=True)
    plugin = registered_plugin(chain, model)
    if not issubclass(plugin, CausalLM):
        raise InputError(f"model {model!r} does not generate text")
    least = int(chain.registered_models()[model]["min_price"])
    price = least if per_token is None else to_units(per_token)
    if price < least:
        raise InputError(f"price {credits(price)} credits a token is below the model's minimum of {credits(least)}")
    client = RequesterClient(chain)
    messages = [{"role": "system", "content": system}] if system else []
    interactive = sys.stdin.isatty()
    ctx.out.info(f"chatting with {model} at {credits(price)} credits a token; /exit to stop")
    while True:
        line = _read(interactive)
        if line is None or line.strip() in QUIT:
            return
        if not line.strip():
            continue
        messages.append({"role": "user", "content": line})
        request = GenerationRequest.model_validate(
            {
                "messages": messages,
                "max_tokens": max_tokens,
                "temperature": temperature,
                "top_p": top_p,
                "seed": secrets.randbelow(2**63) if seed is None else seed,
            }
        )
        answer = _turn(ctx, client, model, request, price * max_tokens, wait_timeout)
        if answer is None:
            messages.pop()  # That turn cannot be answered: leave it out of the conversation.
            continue
        messages.append({"role": "assistant", "content": answer})


def _read(interactive: bool) -> str | None:
    try:
        return str(click.prompt("you", prompt_suffix="> ", err=True)) if interactive else next(iter(sys.stdin))
    except (EOFError, StopIteration, click.exceptions.Abort):
        return None


def _turn(ctx: Ctx, client: RequesterClient, model: str, request: GenerationRequest, price: int,
          wait_timeout: float) -> str | None:  # fmt: skip
    """One paid turn: submit, stream, check the commitment. The committed text, or None."""
    (job_id,) = client.submit(model, [request.encode()], price).job_ids
    streamed = ""
    ctx.out.stream_start(f"{model} ({format_job(job_id)})> ")
    try:
        for text, finish in client.stream(job_id, timeout=wait_timeout):
            if finish is None:
                streamed += text
                ctx.out.stream(text)
    except ClientError as exc:  # The commitment is the record: the answer comes from it.
        ctx.out.info(f"(the stream broke off: {exc}; fetching the committed answer)")
    try:
        client.wait(batch_of(job_id), set(COMMITTED), timeout=wait_timeout, poll=0.05)
    except ClientError as exc:
        raise CliError(str(exc), TIMEOUT) from None
    try:
        generation = Generation.decode(client.fetch(job_id))
    except ClientError as exc:
        raise CliError(str(exc), VERIFICATION) from None
    except OutputDecodeError as exc:
        raise CliError(f"job {format_job(job_id)}: the worker committed something other than text: {exc}",
                       VERIFICATION) from None  # fmt: skip
    if generation.finish == Finish.INVALID:
        ctx.out.stream_end()
        ctx.out.info("the conversation no longer fits the model's context: start a new chat")
        return None
    if not generation.text.startswith(streamed):
        ctx.out.stream_end()
        raise CliError(f"job {format_job(job_id)}: the streamed text is not the text committed on chain", VERIFICATION)
    ctx.out.stream(generation.text[len(streamed) :])
    ctx.out.stream_end(
        {"job": format_job(job_id), "text": generation.text, "finish_reason": generation.finish.label,
         "completion_tokens": len(generation.tokens), "verified_against_chain": True}
    )  # fmt: skip
    return generation.text
