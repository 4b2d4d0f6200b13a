"""Deploy the Nightshift protocol to a running chain and write a deployments file.

    NIGHTSHIFT_DEPLOYER_KEY=0x... python scripts/deploy.py --rpc-url URL --out FILE [--models FILE]

The key comes from the environment (or a prompt), never from a flag. `--models` is a JSON list
of {"name", "model_id", "mode": "exact"|"tolerant", "tolerance_hash", "min_price"}; `--config`
a JSON DeployConfig (stakes, unbonding, market parameters).
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path

from eth_account import Account
from pydantic import SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from node.chain.artifacts import load_artifacts
from node.chain.deploy import DeployConfig, ModelSpec, decoder_for, deploy_protocol
from node.chain.transport import connect
from node.chain.tx import TxSender
from node.config import default_deployments
from node.errors import NightshiftError
from node.logs import configure_logging


class DeploySettings(BaseSettings):
    """Environment: NIGHTSHIFT_DEPLOYER_KEY."""

    model_config = SettingsConfigDict(env_prefix="NIGHTSHIFT_")
    deployer_key: SecretStr | None = None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rpc-url", default="http://127.0.0.1:8545")
    parser.add_argument("--out", type=Path, default=default_deployments())
    parser.add_argument("--models", type=Path, help="JSON list of models to register")
    parser.add_argument("--config", type=Path, help="JSON DeployConfig")
    args = parser.parse_args(argv)
    configure_logging()
    try:
        key = DeploySettings().deployer_key
        secret = key.get_secret_value() if key else getpass.getpass("deployer private key: ")
        account = Account.from_key(secret)
        config = DeployConfig.model_validate_json(args.config.read_text()) if args.config else DeployConfig()
        models = [ModelSpec.model_validate(m) for m in json.loads(args.models.read_text())] if args.models else []
        w3 = connect(args.rpc_url)
        if not w3.is_connected():
            raise NightshiftError(f"cannot reach the RPC at {args.rpc_url}")
        artifacts = load_artifacts()
        sender = TxSender(w3, account, decoder_for(artifacts))
        deployment = deploy_protocol(w3, sender, config, models, artifacts)
        deployment.save(args.out)
    except (NightshiftError, ValidationError, OSError, ValueError) as exc:
        print(f"deploy failed: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 1
    addresses = {name: rec.address for name, rec in deployment.contracts.items()}
    print(json.dumps({"chain_id": deployment.chain_id, "out": str(args.out), **addresses}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
