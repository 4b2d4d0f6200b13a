"""Chat and text completions through the gateway with the stock `openai` client, streamed and
not, against a worker and a verifier serving the bundled chat model on a devnet."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import openai
import pytest
from eth_utils import keccak
from pydantic import SecretStr

from node.chain.client import ChainClient
from node.chain.deploy import MarketParams
from node.chain.protocol import batch_of, parse_job
from node.client import RequesterClient
from node.devnet import Devnet
from node.inference.generation import Generation
from node.inference.models.causal_lm import PydocChat

OPERATOR = 2
HOSTING_OPERATOR = 3  # A second gateway, hosting long inputs, pays from its own account.
QUESTION = [{"role": "user", "content": "What does json.dumps do?"}]


@pytest.fixture(scope="module")
def devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Devnet]:
    net = Devnet(tmp_path_factory.mktemp("chat"), market=MarketParams(challenge_window=5)).up()
    try:
        net.fund(OPERATOR, 1_000)
        net.start_worker("worker", 6, models=PydocChat.name)
        net.start_verifier("verifier", 16, models=PydocChat.name)
        yield net
    finally:
        net.down()


@pytest.fixture(scope="module")
def gateway(devnet: Devnet) -> str:
    return f"{devnet.start_gateway('gateway', OPERATOR).url}/v1"


@pytest.fixture(scope="module")
def openai_client(gateway: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=gateway, api_key="unused", max_retries=0)


def committed_text(devnet: Devnet, completion_id: str) -> str:
    """The text committed on chain for a completion (its id names the job)."""
    key = SecretStr("0x" + devnet.accounts[OPERATOR].key.hex().removeprefix("0x"))
    client = RequesterClient(ChainClient(devnet.anvil.url, devnet.deployments_path, key))
    return Generation.decode(client.fetch(parse_job(completion_id.split("-", 1)[1]))).text


def test_chat_completion_is_the_committed_generation(devnet, openai_client):
    reply = openai_client.chat.completions.create(model=PydocChat.name, messages=QUESTION, max_tokens=24, temperature=0)
    choice = reply.choices[0]
    assert reply.object == "chat.completion" and choice.message.role == "assistant"
    assert "JSON" in choice.message.content and choice.finish_reason in ("stop", "length")
    assert reply.usage.completion_tokens >= 1 and reply.usage.prompt_tokens > 5
    assert choice.message.content == committed_text(devnet, reply.id)


def test_streamed_chat_relays_the_text_and_ends_with_the_committed_one(devnet, openai_client):
    params = {"model": PydocChat.name, "messages": QUESTION, "max_tokens": 40, "seed": 3, "temperature": 0.8}
    stream = openai_client.chat.completions.create(**params, stream=True, stream_options={"include_usage": True})
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes in (["stop"], ["length"]) and chunks[-1].usage is not None
    assert text == committed_text(devnet, chunks[0].id)
    whole = openai_client.chat.completions.create(**params)  # The same seed: the same tokens.
    assert whole.choices[0].message.content == text


def test_streamed_completion_is_server_sent_events_ending_with_done(gateway):
    body = {"model": PydocChat.name, "prompt": "Return the", "max_tokens": 32, "stream": True, "seed": 1}
    with httpx.stream("POST", f"{gateway}/completions", json=body, timeout=60) as response:
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
        events = [line for line in response.iter_lines() if line]
    assert all(e.startswith("data: ") for e in events) and events[-1] == "data: [DONE]"
    assert len(events) >= 3  # The role-less opening chunk, text, the finish.


def test_text_completion_follows_the_openai_shape(devnet, openai_client):
    reply = openai_client.completions.create(model=PydocChat.name, prompt="Return the", max_tokens=8, seed=2)
    assert reply.object == "text_completion" and reply.choices[0].finish_reason in ("stop", "length")
    assert reply.usage.completion_tokens <= 8 and reply.choices[0].text == committed_text(devnet, reply.id)


@pytest.mark.parametrize(
    ("params", "error", "param"),
    [
        ({"model": "gpt-4o", "messages": QUESTION}, openai.NotFoundError, "model"),
        ({"model": "digits-mlp", "messages": QUESTION}, openai.NotFoundError, "model"),
        ({"model": PydocChat.name, "messages": []}, openai.BadRequestError, "messages"),
        (
            {"model": PydocChat.name, "messages": [{"role": "robot", "content": "hi"}]},
            openai.BadRequestError,
            "messages.0.role",
        ),
        ({"model": PydocChat.name, "messages": QUESTION, "max_tokens": 0}, openai.BadRequestError, "max_tokens"),
        ({"model": PydocChat.name, "messages": QUESTION, "max_tokens": 100_000}, openai.BadRequestError, "max_tokens"),
        ({"model": PydocChat.name, "messages": QUESTION, "temperature": 3}, openai.BadRequestError, "temperature"),
        ({"model": PydocChat.name, "messages": QUESTION, "n": 2}, openai.BadRequestError, "n"),
        (
            {"model": PydocChat.name, "messages": [{"role": "user", "content": "x" * 5000}]},
            openai.BadRequestError,
            "messages",
        ),
    ],
)
def test_bad_chat_requests_get_openai_errors_with_the_parameter(openai_client, params, error, param):
    with pytest.raises(error) as raised:
        openai_client.chat.completions.create(**params)
    assert raised.value.body["param"] == param and raised.value.body["message"]


def test_a_long_chat_travels_by_uri_from_the_gateway_and_is_answered_as_if_inline(devnet, openai_client):
    devnet.fund(HOSTING_OPERATOR, 1_000)
    hosting = devnet.start_gateway("hosting-gateway", HOSTING_OPERATOR, gateway_inline_max=64)
    chat = [
        *QUESTION,
        {"role": "assistant", "content": "It serializes an object to a JSON formatted string."},
        {"role": "user", "content": "And what does json.loads do with such a string?"},
    ]
    params = {"model": PydocChat.name, "messages": chat, "max_tokens": 16, "temperature": 0}
    hosted_client = openai.OpenAI(base_url=f"{hosting.url}/v1", api_key="unused", max_retries=0)
    hosted_client.chat.completions.create(**params)  # The operator's first job pays for its cold slots.
    via_uri = hosted_client.chat.completions.create(**params)
    inline = openai_client.chat.completions.create(**params)
    assert via_uri.choices[0].message.content == inline.choices[0].message.content
    assert via_uri.choices[0].message.content == committed_text(devnet, via_uri.id)

    created = {e["args"]["batchId"]: e for e in devnet.market_contract.events.BatchCreated().get_logs(from_block=0)}
    hosted_event, inline_event = (created[batch_of(parse_job(r.id.split("-", 1)[1]))] for r in (via_uri, inline))
    (entry,) = hosted_event["args"]["inputs"]
    assert entry["data"] == b"" and entry["uri"] == f"{hosting.url}/v1/inputs/0x{bytes(entry['inputHash']).hex()}"
    served = httpx.get(entry["uri"], timeout=10)  # What the worker fetched: the bytes the chain names.
    assert served.status_code == 200 and keccak(served.content) == bytes(entry["inputHash"])
    assert inline_event["args"]["inputs"][0]["data"] == served.content  # The other gateway sent them inline.

    def gas(event: dict) -> int:
        return devnet.w3.eth.get_transaction_receipt(event["transactionHash"])["gasUsed"]

    assert gas(hosted_event) < gas(inline_event), (gas(hosted_event), gas(inline_event))
