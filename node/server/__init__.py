"""The worker's HTTP API."""

from node.wire import MAX_RESULTS

__all__ = ["MAX_RESULTS"]
