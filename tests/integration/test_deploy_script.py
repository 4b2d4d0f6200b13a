"""scripts/deploy.py as a user runs it: a separate process, the key from the environment."""

import json
import os
import subprocess
import sys
from pathlib import Path

from node.chain.anvil import dev_accounts
from node.chain.deployments import Deployment

ROOT = Path(__file__).resolve().parents[2]


def _run(args, env_extra=None):
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "deploy.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_deploy_script_writes_deployments_file_nodes_can_load(anvil, tmp_path):
    models = tmp_path / "models.json"
    models.write_text(json.dumps([{"name": "digits", "model_id": "0x" + "22" * 32, "mode": "exact", "min_price": 5}]))
    out = tmp_path / "deployments.json"
    key = dev_accounts(1)[0].key.hex()
    result = _run(
        ["--rpc-url", anvil.url, "--out", str(out), "--models", str(models)], {"NIGHTSHIFT_DEPLOYER_KEY": key}
    )
    assert result.returncode == 0, result.stderr
    assert key not in result.stdout + result.stderr
    deployment = Deployment.load(out)
    deployment.check_chain(anvil.web3())
    assert set(deployment.contracts) == {"Credit", "Staking", "ModelRegistry", "JobMarket", "VerificationGame"}
    assert [m.name for m in deployment.models] == ["digits"]
    market = deployment.contract(anvil.web3(), "JobMarket")
    assert market.functions.nextBatchId().call() == 1


def test_deploy_script_reports_unreachable_rpc_in_one_line(tmp_path):
    key = dev_accounts(1)[0].key.hex()
    result = _run(
        ["--rpc-url", "http://127.0.0.1:9", "--out", str(tmp_path / "d.json")], {"NIGHTSHIFT_DEPLOYER_KEY": key}
    )
    assert result.returncode == 1
    assert result.stderr.strip() == "deploy failed: cannot reach the RPC at http://127.0.0.1:9"
    assert not (tmp_path / "d.json").exists()
