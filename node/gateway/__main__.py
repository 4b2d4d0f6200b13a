"""`python -m node.gateway`: run the OpenAI-compatible gateway (NIGHTSHIFT_* environment)."""

from __future__ import annotations

import logging
import sys

import uvicorn

from node.chain.client import ChainClient
from node.client import RequesterClient
from node.config import GatewaySettings
from node.errors import NightshiftError
from node.gateway.app import GatewayConfig, create_gateway
from node.logs import configure_logging


def main() -> int:
    settings = GatewaySettings()
    configure_logging()
    try:
        client = RequesterClient(ChainClient(settings.rpc_url, settings.deployments, settings.private_key))
    except NightshiftError as exc:
        print(f"gateway failed: {exc}", file=sys.stderr)
        return 1
    config = GatewayConfig.from_settings(settings, settings.gateway_host, settings.gateway_port)
    app = create_gateway(client, config)
    logging.getLogger("node.gateway").info(
        "gateway ready", extra={"address": client.chain.address, "port": settings.gateway_port}
    )
    uvicorn.run(app, host=settings.gateway_host, port=settings.gateway_port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
