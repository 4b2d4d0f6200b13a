"""The OpenAI-compatible gateway, used through the real `openai` client, as a separate process."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import openai
import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from node.chain.deploy import MarketParams
from node.devnet import Devnet
from node.inference.encoding import encode_output
from node.inference.engine import ExecutionSettings, InferenceEngine
from node.inference.models.minilm import MiniLM

OPERATOR = 2
API_KEY = "sk-nightshift-test-key"
AUTH = {"Authorization": f"Bearer {API_KEY}"}


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # The default audit rate and collateral: at the gateway's price a batch carries 256 jobs.
    market = MarketParams(challenge_window=5)
    net = Devnet(tmp_path_factory.mktemp("gateway"), market=market).up()
    try:
        net.fund(OPERATOR, 1_000)
        net.start_worker("worker", 6, models=MiniLM.name)
        net.start_verifier("verifier", 16, models=MiniLM.name)
        # At most one request at a time, so that one long request fills it.
        gateway = net.start_gateway("gateway", OPERATOR, gateway_api_key=API_KEY, gateway_max_concurrent=1)
        yield f"{gateway.url}/v1"
    finally:
        net.down()


@pytest.fixture(scope="module")
def local_minilm() -> InferenceEngine:
    engine = InferenceEngine(ExecutionSettings(threads=1))
    engine.load([MiniLM.name])
    return engine


def test_openai_client_embeddings_match_local_model_within_tolerance(gateway, local_minilm):
    client = openai.OpenAI(base_url=gateway, api_key=API_KEY)
    texts = ["Nightshift is an open inference network.", "Cheaters lose their stake."]
    response = client.embeddings.create(model=MiniLM.name, input=texts)  # The client asks for base64.
    assert [d.index for d in response.data] == [0, 1]
    plugin = local_minilm.plugin_by_name(MiniLM.name)
    local = local_minilm.run(plugin.model_id, [t.encode() for t in texts])
    for item, mine in zip(response.data, local, strict=True):
        served = encode_output(np.array(item.embedding, dtype=np.float32))
        assert MiniLM.policy.compare(mine, served).accepted
    floats = client.embeddings.create(model=MiniLM.name, input="one text", encoding_format="float")
    assert len(floats.data[0].embedding) == 384
    assert response.usage.prompt_tokens > 0


def test_models_list_shows_registered_models(gateway):
    ids = {m.id for m in openai.OpenAI(base_url=gateway, api_key=API_KEY).models.list()}
    assert ids == {"all-MiniLM-L6-v2", "digits-mlp", "pydoc-chat"}


def test_unknown_model_is_an_openai_not_found_error(gateway):
    with pytest.raises(openai.NotFoundError) as info:
        openai.OpenAI(base_url=gateway, api_key=API_KEY).embeddings.create(model="text-embedding-3-small", input="x")
    assert info.value.body["code"] == "model_not_found"
    assert "text-embedding-3-small" in info.value.body["message"]


def test_bad_input_is_an_openai_bad_request_error(gateway):
    with pytest.raises(openai.BadRequestError) as info:
        openai.OpenAI(base_url=gateway, api_key=API_KEY).embeddings.create(model=MiniLM.name, input=[[1, 2, 3]])
    assert info.value.body["type"] == "invalid_request_error"
    assert info.value.body["param"].startswith("input")


@pytest.mark.parametrize("key", ["sk-wrong", API_KEY[:-1], API_KEY + "x"])
def test_wrong_api_key_is_an_openai_authentication_error(gateway, key):
    with pytest.raises(openai.AuthenticationError) as raised:
        openai.OpenAI(base_url=gateway, api_key=key, max_retries=0).models.list()
    assert raised.value.status_code == 401
    assert raised.value.code == "invalid_api_key"


def test_missing_api_key_is_refused_with_401(gateway):
    response = httpx.get(f"{gateway}/models", timeout=5)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"


def test_embeddings_of_more_inputs_than_a_batch_are_served_while_the_excess_request_gets_429(gateway, local_minilm):
    """600 inputs are more than one batch (256): the gateway splits them and answers in order.
    While it serves them, its one request slot is taken, and another request is refused at
    once with a 429 and `Retry-After`, not queued."""
    texts = [f"sentence {i}: spot checks keep workers honest" for i in range(600)]
    with ThreadPoolExecutor(1) as pool:
        body = {"model": MiniLM.name, "input": texts, "encoding_format": "float"}
        long = pool.submit(httpx.post, f"{gateway}/embeddings", json=body, headers=AUTH, timeout=180)
        time.sleep(0.5)  # The long request holds the slot from its first millisecond.
        refused = None
        deadline = time.monotonic() + 60
        while refused is None and not long.done() and time.monotonic() < deadline:
            small = {"model": MiniLM.name, "input": "x"}
            other = httpx.post(f"{gateway}/embeddings", json=small, headers=AUTH, timeout=60)
            if other.status_code == 429:
                refused = other
            time.sleep(0.05)
        response = long.result()
    assert refused is not None, f"none refused while the long one was served: {response.text[:300]}"
    assert refused.headers["Retry-After"] == "1"
    assert refused.json()["error"]["code"] == "rate_limit_exceeded"
    assert response.status_code == 200, response.text[:300]
    data = response.json()["data"]
    assert [d["index"] for d in data] == list(range(600))
    plugin = local_minilm.plugin_by_name(MiniLM.name)
    picks = [0, 255, 256, 599]  # Either side of the batch boundary.
    local = local_minilm.run(plugin.model_id, [texts[i].encode() for i in picks])
    for i, mine in zip(picks, local, strict=True):
        served = encode_output(np.array(data[i]["embedding"], dtype=np.float32))
        assert MiniLM.policy.compare(mine, served).accepted


def test_more_inputs_than_the_openai_limit_is_a_bad_request(gateway):
    body = {"model": MiniLM.name, "input": ["x"] * 2049}
    response = httpx.post(f"{gateway}/embeddings", json=body, headers=AUTH, timeout=30)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "input" and "2049" in response.json()["error"]["message"]


BAD_REQUESTS = [
    # (method, path, JSON body or raw bytes, status, error type, start of the message)
    ("post", "/embeddings", None, 400, "invalid_request_error", "the request body: Field required"),
    ("post", "/embeddings", b"{not json", 400, "invalid_request_error", "the request body is not valid JSON"),
    ("post", "/embeddings", {"input": "x"}, 400, "invalid_request_error", "model: Field required"),
    ("post", "/embeddings", {"model": MiniLM.name}, 400, "invalid_request_error", "input: Field required"),
    ("post", "/embeddings", {"model": MiniLM.name, "input": []}, 400, "invalid_request_error", "input must be"),
    ("post", "/embeddings", {"model": MiniLM.name, "input": ["a", ""]}, 400, "invalid_request_error", "input must be"),
    ("post", "/embeddings", {"model": MiniLM.name, "input": 5}, 400, "invalid_request_error", "input"),
    ("post", "/embeddings", {"model": 7, "input": "x"}, 400, "invalid_request_error", "model: Input should be"),
    (
        "post",
        "/embeddings",
        {"model": MiniLM.name, "input": "x", "encoding_format": "hex"},
        400,
        "invalid_request_error",
        "encoding_format: Input should be",
    ),
    ("post", "/embeddings", {"model": MiniLM.name, "input": "x", "user": 5}, 400, "invalid_request_error", "user"),
    ("post", "/embeddings", {"model": "digits-mlp", "input": "x"}, 404, "invalid_request_error", "The model"),
    ("get", "/embeddings", None, 405, "invalid_request_error", "Method Not Allowed"),
    (
        "post",
        "/embeddings",
        {"model": MiniLM.name, "input": ["fits", "x" * 5000]},
        400,
        "invalid_request_error",
        "input[1] is 5,000 bytes as a job's input; the network takes at most 4,096",
    ),
    ("get", "/inputs/0x12", None, 400, "invalid_request_error", "'0x12' is not a keccak-256 hash"),
    ("get", "/inputs/0x" + "0" * 64, None, 404, "invalid_request_error", "no input 0x0000"),
    (
        "post",
        "/completions",
        {"model": MiniLM.name, "prompt": "x"},
        404,
        "invalid_request_error",
        "The model `all-MiniLM-L6-v2` does not generate text",
    ),
]


@pytest.mark.parametrize(("method", "path", "body", "status", "error_type", "message"), BAD_REQUESTS)
def test_bad_request_to_the_gateway_gets_an_openai_error_with_a_one_line_reason(
    gateway, method, path, body, status, error_type, message
):
    content = body if isinstance(body, bytes) else None
    json_body = body if isinstance(body, dict) else None
    headers = {**AUTH, "Content-Type": "application/json"}
    response = httpx.request(method, f"{gateway}{path}", json=json_body, content=content, headers=headers, timeout=30)
    assert response.status_code == status
    error = response.json()["error"]
    assert error["type"] == error_type and "\n" not in error["message"]
    assert error["message"].startswith(message), error["message"]


@pytest.fixture(scope="module")
def gateway_schema(gateway):
    return schemathesis.openapi.from_url(f"{gateway.removesuffix('/v1')}/openapi.json")


schema = schemathesis.pytest.from_fixture("gateway_schema")


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_gateway_never_answers_a_server_error(case):
    """Generated requests (the schema's own, and mutations of it) get 4xx or 200, never a 5xx:
    those a caller can cause are its errors, not the gateway's."""
    case.call_and_validate(headers=AUTH, checks=[schemathesis.checks.not_a_server_error])
