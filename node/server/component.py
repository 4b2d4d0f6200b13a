"""The HTTP API as a supervised component (uvicorn in a thread)."""

from __future__ import annotations

import uvicorn
from fastapi import FastAPI


class ApiServer:
    name = "api"

    def __init__(self, app_factory: object, host: str, port: int):
        self._factory = app_factory
        self._host, self._port = host, port

    def setup(self) -> None:
        app: FastAPI = self._factory()  # type: ignore[operator]
        config = uvicorn.Config(app, host=self._host, port=self._port, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        # In a non-main thread uvicorn installs no signal handlers: the supervisor owns them.

    def run(self) -> None:
        self._server.run()

    def stop(self) -> None:
        self._server.should_exit = True
