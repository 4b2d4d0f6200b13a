"""`python -m node.gateway`: run the OpenAI-compatible gateway (NIGHTSHIFT_* environment)."""

from __future__ import annotations

import sys
from pathlib import Path

import uvicorn
from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from node.chain.client import ChainClient
from node.client import RequesterClient
from node.errors import NightshiftError
from node.gateway.app import GatewayConfig, create_gateway
from node.logs import configure_logging


class GatewaySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NIGHTSHIFT_", extra="ignore")

    rpc_url: str = "http://127.0.0.1:8545"
    deployments: str = "deployments/local.json"
    private_key: SecretStr | None = None
    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8080
    gateway_price: int = 20_000  # Credit base units per job.
    gateway_audit_bps: int = 0
    gateway_api_key: SecretStr | None = None


def main() -> int:
    settings = GatewaySettings()
    configure_logging()
    try:
        client = RequesterClient(ChainClient(settings.rpc_url, Path(settings.deployments), settings.private_key))
    except NightshiftError as exc:
        print(f"gateway failed: {exc}", file=sys.stderr)
        return 1
    key = settings.gateway_api_key.get_secret_value() if settings.gateway_api_key else None
    app = create_gateway(client, GatewayConfig(settings.gateway_price, settings.gateway_audit_bps, api_key=key))
    uvicorn.run(app, host=settings.gateway_host, port=settings.gateway_port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
