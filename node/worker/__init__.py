"""The worker role: takes batches, runs the model, commits results and serves them over HTTP."""

from node.worker.daemon import Worker

__all__ = ["Worker"]
