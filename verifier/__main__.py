"""`python -m verifier`: run a verifier node (configuration from NIGHTSHIFT_* environment variables)."""

import sys

from node.config import VerifierSettings
from node.launch import entrypoint
from verifier.run import run_verifier

if __name__ == "__main__":
    sys.exit(entrypoint(VerifierSettings, run_verifier, "verifier"))
