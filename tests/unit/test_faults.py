"""The fault-injection wrappers (`faults`) change what a worker answers from outside it, and the
production settings know nothing of them."""

from eth_utils import keccak
from fastapi.testclient import TestClient

from faults.tamper import FaultInjector, TamperingEngine, WorkerFaults
from faults.worker import WithholdingStore
from node.chain.protocol import job_id
from node.config import VerifierSettings, WorkerSettings
from node.inference.engine import ExecutionSettings, InferenceEngine
from node.inference.models.digits import DigitsMLP, encode_pixels
from node.metrics import Metrics
from node.server.app import NodeInfo, create_app
from node.store import Store


def test_production_settings_have_no_fault_switches():
    assert "faults" not in WorkerSettings.model_fields
    assert "faults" not in VerifierSettings.model_fields


def test_a_withholding_view_hides_committed_results_the_store_still_holds(tmp_path):
    store = Store(tmp_path)
    output, job = b"the output", job_id(7, 0)
    store.put_batch(7, "0x" + "11" * 32, "committed", {"size": 1, "inputs": ["00"]})
    store.save_outputs([(job, keccak(output), output)])
    info = NodeInfo(address="0x" + "22" * 20, models=[])
    honest = TestClient(create_app(store, Metrics(), info))
    withheld = TestClient(create_app(WithholdingStore(store), Metrics(), info))  # type: ignore[arg-type]
    assert honest.get(f"/v1/results/{job}").status_code == 200
    assert withheld.get(f"/v1/results/{job}").status_code == 404
    assert withheld.get("/v1/results", params={"ids": [job]}).json() == {"results": [], "missing": [job]}
    assert withheld.get(f"/v1/stream/{job}").status_code == 404
    assert withheld.get("/health").status_code == 200  # Everything but the results is the real store's.


def test_a_tampering_engine_answers_wrong_at_its_rate_and_passes_everything_else_through():
    engine = InferenceEngine(ExecutionSettings(threads=1))
    engine.load([DigitsMLP.name])
    model = engine.plugin_by_name(DigitsMLP.name).model_id
    inputs = [encode_pixels([float(i % 17)] * 64) for i in range(40)]
    honest = engine.run(model, inputs)
    always = TamperingEngine(engine, FaultInjector(WorkerFaults(wrong_rate=1.0)))
    assert all(a != b for a, b in zip(always.run(model, inputs), honest, strict=True))
    half = TamperingEngine(engine, FaultInjector(WorkerFaults(wrong_rate=0.5, seed=3))).run(model, inputs)
    assert 0 < sum(a != b for a, b in zip(half, honest, strict=True)) < len(inputs)
    assert always.plugin(model) is engine.plugin(model) and always.serves(model)
