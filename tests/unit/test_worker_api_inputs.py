"""Bad input to the worker's result API: every case is a 4xx with a one-line reason, never a 5xx,
and a schemathesis run over its OpenAPI schema finds no server error either."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import schemathesis
from eth_utils import keccak
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings

from node.chain.protocol import job_id
from node.metrics import Metrics
from node.server.app import NodeInfo, create_app
from node.store import Store

BAD_REQUESTS = [
    ("get", "/v1/results/abc", 422, "path.job_id: Input should be a valid integer"),
    ("get", "/v1/results/1.5", 422, "path.job_id: Input should be a valid integer"),
    ("get", "/v1/results/-1", 422, "path.job_id: Input should be greater than or equal to 0"),
    ("get", "/v1/results/" + "9" * 30, 422, "path.job_id: Input should be less than or equal to"),
    ("get", f"/v1/results/{2**63}", 422, "path.job_id: Input should be less than or equal to"),
    ("get", "/v1/results/5?format=xml", 422, "query.format: String should match pattern"),
    ("get", "/v1/results", 422, "query.ids: Field required"),
    ("get", "/v1/results?" + "&".join(f"ids={i}" for i in range(257)), 422, "query.ids: List should have at most 256"),
    ("get", "/v1/results?ids=x", 422, "query.ids.0: Input should be a valid integer"),
    ("get", "/v1/results?ids=-5", 422, "query.ids.0: Input should be greater than or equal to 0"),
    ("get", f"/v1/results?ids={2**64}", 422, "query.ids.0: Input should be less than or equal to"),
    ("get", "/v1/results/77", 404, "no result for job 77 on this worker"),
    ("get", f"/v1/results/{job_id(7, 0)}", 404, f"no result for job {job_id(7, 0)} on this worker"),  # Not committed.
    ("post", "/v1/results/1", 405, "Method Not Allowed"),
    ("delete", "/health", 405, "Method Not Allowed"),
    ("get", "/v2/results/1", 404, "Not Found"),
]


@pytest.fixture
def app(tmp_path):
    store = Store(tmp_path)
    store.put_batch(7, "0x" + "11" * 32, "taken", {"size": 1, "inputs": ["00"]})  # Computed, not committed.
    store.save_outputs([(job_id(7, 0), keccak(b"out"), b"out")])
    return create_app(store, Metrics(), NodeInfo(address="0x" + "22" * 20, models=["digits-mlp"]))


@pytest.mark.parametrize(("method", "url", "status", "reason"), BAD_REQUESTS)
def test_bad_request_to_the_worker_api_gets_a_4xx_with_a_one_line_reason(app, method, url, status, reason):
    response = TestClient(app, raise_server_exceptions=False).request(method, url)
    assert response.status_code == status
    error = response.json()["error"]
    assert isinstance(error, str) and "\n" not in error and error.startswith(reason)


_store = Store(Path(tempfile.mkdtemp(prefix="worker-api-")))
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(_store, Metrics(), NodeInfo("0x" + "22" * 20, [])))


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_worker_api_never_answers_a_server_error(case):
    case.call_and_validate(checks=[schemathesis.checks.not_a_server_error])
