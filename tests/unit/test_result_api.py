"""The worker's result API serves an output only once the worker's commit of it is on chain
(finding 8): before that a requester could read it and cancel, or another worker commit it."""

from eth_utils import keccak
from fastapi.testclient import TestClient

from node.chain.protocol import job_id, result_commitment
from node.metrics import Metrics
from node.server.app import NodeInfo, create_app
from node.store import Store


def test_results_are_served_only_for_batches_this_worker_committed(tmp_path):
    store = Store(tmp_path)
    output = b"the output"
    store.put_batch(7, "0x" + "11" * 32, "taken", {"size": 1, "inputs": ["00"]})
    store.save_outputs([(job_id(7, 0), keccak(output), output)])
    api = TestClient(create_app(store, Metrics(), NodeInfo(address="0x" + "22" * 20, models=[])))
    job = job_id(7, 0)
    assert api.get(f"/v1/results/{job}").status_code == 404  # Computed, not committed yet.
    assert api.get("/v1/results", params={"ids": [job]}).json() == {"results": [], "missing": [job]}
    store.set_batch_status(7, "committed", 0)
    served = api.get(f"/v1/results/{job}")
    assert served.status_code == 200 and served.json()["output_hash"] == "0x" + keccak(output).hex()
    assert [r["job_id"] for r in api.get("/v1/results", params={"ids": [job]}).json()["results"]] == [job]


def test_a_commitment_binds_the_worker_so_a_copy_matches_nothing_another_worker_serves():
    honest, copycat, output = "0x" + "aa" * 20, "0x" + "bb" * 20, b"embedding"
    commitment = result_commitment(honest, job_id(3, 1), output)
    assert commitment != result_commitment(copycat, job_id(3, 1), output)
    assert commitment != result_commitment(honest, job_id(3, 2), output)  # And the job.
    assert commitment != keccak(output)  # The output's own hash stays hidden until it is served.
