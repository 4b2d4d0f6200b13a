"""Structured logging: one line per event, `key=value` pairs (or JSON), never secrets.

Modules log with the standard library (`log.info("batch taken", extra={"batch_id": 3})`); this
module renders the `extra` fields after the message.
"""

from __future__ import annotations

import json
import logging
import sys

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class KeyValueFormatter(logging.Formatter):
    """`2026-11-22T02:51:00 INFO node.worker batch taken batch_id=3 jobs=16`."""

    def __init__(self, as_json: bool = False):
        super().__init__(datefmt="%Y-%m-%dT%H:%M:%S")
        self._as_json = as_json

    def format(self, record: logging.LogRecord) -> str:
        fields = {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}
        if self._as_json:
            payload = {
                "time": self.formatTime(record, self.datefmt),
                "level": record.levelname,
                "logger": record.name,
                "event": record.getMessage(),
                **fields,
            }
            if record.exc_info:
                payload["exception"] = self.formatException(record.exc_info)
            return json.dumps(payload, default=str)
        line = f"{self.formatTime(record, self.datefmt)} {record.levelname} {record.name} {record.getMessage()}"
        if fields:
            line += " " + " ".join(f"{k}={v}" for k, v in fields.items())
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def configure_logging(level: str = "INFO", as_json: bool = False) -> None:
    """Sends every log record to stderr through `KeyValueFormatter`."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(KeyValueFormatter(as_json))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("urllib3", "web3", "httpx", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
