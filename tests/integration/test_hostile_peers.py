"""Hostile peers against real verifier processes: a worker that commits results on chain and
then answers the verifiers' fetches with malformed data (valid JSON of the wrong shape, bad
base64, an output whose declared dimensions overflow 64 bits). Each answer must cost the worker
its batch, as withholding does, and leave every verifier running: before, each crashed the
verifier's step, and the supervisor stopped the node."""

from __future__ import annotations

import base64
import http.server
import json
import struct
import threading
from collections.abc import Iterator
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest

from node.chain.protocol import batch_of, index_of, result_commitment
from node.devnet import WORKER, Devnet
from node.inference.encoding import MAGIC
from node.inference.models.minilm import MiniLM

from .helpers import EMBED_PRICE, FORFEITED, REJECTED, all_final, events, job_statuses, requester, wait_until

WORKER_INDEX = 6
# Four dimensions of 65,536: 2**64 elements, which numpy's int64 product wraps to 0, so that a
# header with no data at all passed the length check and crashed the reshape.
OVERFLOW = MAGIC + struct.pack("<BB", 1, 4) + struct.pack("<4I", *(1 << 16,) * 4)


def served(job: int, output: str) -> dict[str, object]:
    digest = "0x" + "00" * 32
    return {"job_id": job, "batch_id": batch_of(job), "index": index_of(job), "output_hash": digest, "output": output}


# What the hostile worker answers for each kind of batch, and the output it commits to.
ANSWERS = {
    "wrong shape": (lambda job: {"results": {"job_id": job}}, b"whatever"),
    "bad base64": (lambda job: {"results": [served(job, "!!not base64!!")]}, b"whatever"),
    "overflowing dimensions": (lambda job: {"results": [served(job, base64.b64encode(OVERFLOW).decode())]}, OVERFLOW),
}


class HostileWorker(http.server.BaseHTTPRequestHandler):
    answers: ClassVar[dict[int, dict[str, object]]] = {}  # Job -> the JSON it answers.

    def do_GET(self) -> None:
        ids = [int(i) for i in parse_qs(urlsplit(self.path).query).get("ids", [])]
        body = json.dumps(self.answers.get(ids[0], {}) if ids else {}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def hostile_url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), HostileWorker)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def commit_as_hostile_worker(devnet: Devnet, batch_id: int, job: int, output: bytes) -> None:
    """Takes the batch and commits `output` for its job, binding the commitment to the worker, as
    an honest worker's commit would: the verifiers get past the commitment check to the output."""
    worker = devnet.senders[WORKER_INDEX]
    market = devnet.market_contract.functions
    worker.transact(market.takeBatches([batch_id]))
    worker.transact(market.commitResults([batch_id], [[result_commitment(worker.address, job, output)]]))
    seed_block = devnet.view.batch(batch_id).seed_block
    wait_until(lambda: devnet.w3.eth.block_number > seed_block, 30, "the seed block")
    worker.transact(market.drawAudits([batch_id]))  # Audited at 100%: every job is selected.


def test_malformed_results_lose_the_worker_its_batch_and_never_stop_a_verifier(devnet, nodes, hostile_url):
    devnet.stake(WORKER_INDEX, WORKER, 1000, hostile_url)
    verifiers = [nodes.verifier(f"auditor-{i}", 20 + i, models=MiniLM.name, challenge_rate=0.0) for i in range(5)]
    client = requester(devnet, 2)
    for kind, (answer, output) in ANSWERS.items():
        text = f"a job whose worker answers with {kind}".encode()
        sub = client.submit(MiniLM.name, [text], EMBED_PRICE, audit_bps=10_000)
        (job,) = sub.job_ids
        HostileWorker.answers[job] = answer(job)
        commit_as_hostile_worker(devnet, sub.batch_id, job, output)
        wait_until(all_final(devnet, sub.job_ids), 120, f"the batch answered with {kind} to settle")
        assert job_statuses(devnet, sub.job_ids) in ([REJECTED], [FORFEITED]), kind
        assert events(devnet, "BatchForfeited", batchId=sub.batch_id), kind
        assert all(v.alive() for v in verifiers), f"a verifier stopped after {kind}"
    logs = "".join(v.log_path.read_text() for v in verifiers)
    assert "Traceback" not in logs
