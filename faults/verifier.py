"""`python -m faults.verifier`: the production verifier with a judge that ignores the outputs.

`NIGHTSHIFT_FAULTS__ALWAYS_ACCEPT` is the lazy verifier (it votes accept on every job it is
drawn for, unchecked), `NIGHTSHIFT_FAULTS__ALWAYS_REJECT` the malicious one (it votes reject on
every job, with no evidence). Everything else is the real verifier.
"""

from __future__ import annotations

import sys

from pydantic import BaseModel, Field

from node.config import VerifierSettings
from node.launch import entrypoint
from verifier.daemon import Verifier
from verifier.run import run_verifier


class VerifierFaults(BaseModel):
    always_accept: bool = False
    always_reject: bool = False


class FaultyVerifierSettings(VerifierSettings):
    faults: VerifierFaults = Field(default_factory=VerifierFaults)


class FaultyVerifier(Verifier):
    settings: FaultyVerifierSettings

    def judge_all(self, jobs: list[int]) -> dict[int, tuple[bool, bytes]]:
        f = self.settings.faults
        if f.always_accept or f.always_reject:
            return {job: (f.always_accept, b"\x00" * 32) for job in jobs}
        return super().judge_all(jobs)


def run(settings: FaultyVerifierSettings) -> int:
    return run_verifier(settings, FaultyVerifier)


if __name__ == "__main__":
    sys.exit(entrypoint(FaultyVerifierSettings, run, "verifier"))
