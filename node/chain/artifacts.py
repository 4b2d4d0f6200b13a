"""Compiled contract artifacts, read from ape's build manifest (`.build/__local__.json`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from node.chain.errors import DeploymentError

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_MANIFEST = REPO_ROOT / ".build" / "__local__.json"
PROTOCOL_CONTRACTS = ("Credit", "Staking", "ModelRegistry", "JobMarket", "VerificationGame")


@dataclass(frozen=True)
class Artifact:
    """A contract's ABI and creation bytecode."""

    name: str
    abi: list[dict[str, Any]]
    bytecode: str


def load_artifacts(manifest: Path = DEFAULT_MANIFEST) -> dict[str, Artifact]:
    """The protocol contracts' artifacts. Run `ape compile` (or `make compile`) first."""
    try:
        types = json.loads(manifest.read_text())["contractTypes"]
    except FileNotFoundError:
        raise DeploymentError(f"no compiled contracts at {manifest}: run `make compile`") from None
    artifacts = {}
    for name in PROTOCOL_CONTRACTS:
        entry = types[name]
        artifacts[name] = Artifact(name, entry["abi"], entry["deploymentBytecode"]["bytecode"])
    return artifacts
