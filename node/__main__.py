"""`python -m node`: run a worker node (configuration from NIGHTSHIFT_* environment variables)."""

import sys

from node.config import WorkerSettings
from node.launch import entrypoint
from node.worker.run import run_worker

if __name__ == "__main__":
    sys.exit(entrypoint(WorkerSettings, run_worker, "worker"))
