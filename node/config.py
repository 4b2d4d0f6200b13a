"""Node configuration, from environment variables (prefix `NIGHTSHIFT_`), a `.env` file, or flags.

The private key is a secret: it is read from the environment or a keystore, never from a flag,
and never logged or shown in a `repr`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from node.chain.deploy import CREDIT_UNIT
from node.wire import MAX_RESULTS_BYTES

# The models a node serves and the devnet registers unless told otherwise.
DEFAULT_MODELS = ("all-MiniLM-L6-v2", "digits-mlp", "pydoc-chat")


def nightshift_home() -> Path:
    """`$NIGHTSHIFT_HOME`, else `~/.nightshift`: the CLI's keystores and devnet live here."""
    return Path(os.environ.get("NIGHTSHIFT_HOME", Path.home() / ".nightshift"))


def default_deployments() -> Path:
    """The deployments file every component reads unless `NIGHTSHIFT_DEPLOYMENTS` names
    another: the one `nightshift devnet up` writes, so that nodes, the CLI and the gateway
    started with no settings find the same contracts."""
    return Path(os.environ.get("NIGHTSHIFT_DEPLOYMENTS", nightshift_home() / "devnet" / "deployments.json"))


class NodeSettings(BaseSettings):
    """Settings shared by the worker and the verifier."""

    model_config = SettingsConfigDict(env_prefix="NIGHTSHIFT_", env_nested_delimiter="__", extra="ignore")

    rpc_url: str = "http://127.0.0.1:8545"
    rpc_timeout: float = Field(default=30.0, gt=0.0)  # Seconds one JSON-RPC call may take.
    deployments: Path = Field(default_factory=default_deployments)
    private_key: SecretStr | None = None
    data_dir: Path = Path(".nightshift")
    models: Annotated[list[str], NoDecode] = Field(default_factory=lambda: list(DEFAULT_MODELS))
    threads: int = 1
    # Fetches from peers (a job's input URI, a worker's results) take at most this long in all.
    fetch_timeout: float = Field(default=5.0, gt=0.0)
    # Peers at loopback, private or link-local addresses are refused unless allowed: a devnet,
    # where every node runs on 127.0.0.1, allows them.
    allow_private_peers: bool = False
    confirmations: int = 0
    poll_interval: float = 0.2
    # Where the node serves `/health` and `/metrics` (and a worker its results).
    http_host: str = "127.0.0.1"
    http_port: int = 9001
    log_level: str = "INFO"
    log_json: bool = False

    @field_validator("models", mode="before")
    @classmethod
    def _split_models(cls, value: object) -> object:
        return [m.strip() for m in value.split(",") if m.strip()] if isinstance(value, str) else value


ROUND_JOBS_PER_THREAD = 128  # The shortest round a worker takes on, per forward thread.


class WorkerSettings(NodeSettings):
    """The worker daemon."""

    public_url: str | None = None  # The URL registered on chain; defaults to http://host:port.
    # One pass takes open batches (oldest first) until it holds a round of jobs, then computes them
    # in shared forward passes. A round is a quarter of the open backlog, between 128 and 512 jobs
    # per forward thread: a long queue computes in long, evenly padded rounds (two 1-thread workers
    # used 8-10% less CPU per job than in fixed rounds of 128, 4,096 jobs on 2 cores), and the last
    # rounds of a queue shrink, so that they split evenly between workers. Set: a fixed round.
    take_max_jobs: int | None = None
    take_max_batches: int = 64
    # An idle worker computes an open backlog of at most this many jobs before taking it on, and
    # then takes it on in the commit: one transaction instead of two (0: always take first). A
    # longer backlog is taken first, so that workers split it rather than all compute it.
    commit_open_max_jobs: int = 16
    finalize_margin: float = 1.0  # Seconds past a challenge window before finalizing (clock skew).
    # Batches due for finalizing ride on the worker's next commit, in one `multicall`: a job in a
    # steady stream then costs the worker one transaction, not two (about 28,000 gas less per lone
    # job). With no commit to ride on, they are finalized alone once they have waited this long
    # (seconds; 0: at once). Only the worker's own payment and collateral wait.
    finalize_hold: float = Field(default=0.0, ge=0.0)
    withdraw_interval: float = 0.0  # Seconds between automatic withdrawals; 0 = never.

    def round_jobs(self, backlog: int) -> int:
        """The most jobs one take holds while `backlog` jobs are open."""
        if self.take_max_jobs:
            return self.take_max_jobs
        least = ROUND_JOBS_PER_THREAD * self.threads
        return min(4 * least, max(least, backlog // 4))

    @property
    def url(self) -> str:
        return self.public_url or f"http://{self.http_host}:{self.http_port}"


class VerifierSettings(NodeSettings):
    """The verifier daemon."""

    http_port: int = 9101

    # Accepts can be overturned only if someone re-checks jobs: every verifier samples some.
    challenge_rate: float = Field(default=0.05, ge=0.0, le=1.0)
    # The pool draws verifiers for every model's jobs: one that serves only some is absent (and
    # loses its bond) when drawn for the others, so it starts only if told to take that risk.
    partial_models: bool = False
    max_results_bytes: int = Field(default=MAX_RESULTS_BYTES, gt=0)  # The most one results answer may hold.
    # A batch's audit draw is left to its worker's finalize, which runs it first at no transaction
    # of its own. The verifier draws a batch itself only if it samples it for challenges, if its
    # seed block nears the end of `blockhash` reach, or once its challenge window has been over
    # this long (seconds) without a finalize: the audits happen even if the worker never
    # finalizes.
    draw_grace: float = Field(default=30.0, ge=0.0)


class GatewaySettings(BaseSettings):
    """The OpenAI-compatible gateway (`python -m node.gateway`, `nightshift gateway run`). The API
    key is a secret: from the environment only, compared in constant time, never logged."""

    model_config = SettingsConfigDict(env_prefix="NIGHTSHIFT_", extra="ignore")

    rpc_url: str = "http://127.0.0.1:8545"
    deployments: Path = Field(default_factory=default_deployments)
    private_key: SecretStr | None = None
    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8080
    gateway_price: int = Field(default=CREDIT_UNIT // 20, gt=0)  # Base units per job: 0.05 credits.
    gateway_audit_bps: int = Field(default=0, ge=0, le=10_000)
    gateway_api_key: SecretStr | None = None
    gateway_max_concurrent: int = Field(default=8, ge=1)  # Requests served at once; the excess gets a 429.
    # A job input longer than this (bytes) is hosted by the gateway and submitted as a URI input,
    # so that its bytes are not paid for in calldata and in the event; 0 hosts every input.
    gateway_inline_max: int = Field(default=1024, ge=0)
    # Where workers and verifiers reach the gateway's hosted inputs; defaults to http://host:port.
    gateway_public_url: str | None = None
    data_dir: Path = Path(".nightshift/gateway")  # The hosted inputs, kept across restarts.
