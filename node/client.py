"""The requester's Python client: submit paid jobs, wait, fetch results, check them on chain."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from eth_utils import keccak
from pydantic import BaseModel, ValidationError
from web3.logs import DISCARD

from node.chain.client import ChainClient
from node.chain.protocol import AuditStatus, BatchStatus, batch_of, index_of, job_id, job_status, result_commitment
from node.chain.tx import TxSender
from node.errors import NightshiftError
from node.inference.engine import InferenceEngine
from node.net import FetchError, FetchLimits, fetch, stream_lines
from node.wire import MAX_RESULTS, MAX_RESULTS_BYTES, ServedResults, StreamPiece

MAX_UINT = 2**256 - 1
DEVNET_CHAIN_ID = 31337
Wire = TypeVar("Wire", bound=BaseModel)
#: Batch statuses after the commit: the results can be fetched.
COMMITTED = frozenset({"committed", "drawn", "audited", "finalized"})


def batch_status_name(status: int) -> str:
    return BatchStatus(status).name.lower()


def audit_status_name(status: int) -> str:
    return "not audited" if status == AuditStatus.NONE else AuditStatus(status).name.lower()


class ClientError(NightshiftError):
    """A requester-side failure: unknown model, missing result, or a result that fails its check."""


class NotServedYetError(ClientError):
    """The chain says a batch is committed, but its commitment or outputs are not to be had yet:
    a worker serves a batch once it has seen its own commit mined, a moment after the chain
    has it (or the node answering `eth_getLogs` lags the one answering the status)."""


# How often a fetch asks again for results the chain says are committed.
NOT_SERVED_RETRY_S = 0.05


@dataclass(frozen=True)
class Receipt:
    """What `verify` found about a past job."""

    job_id: int
    model: str
    model_id: str
    input_hash: str
    output_hash: str
    local_output_hash: str
    worker: str
    requester: str
    status: str
    audit: str
    payment: int
    policy: str
    verified: bool
    reason: str


@dataclass(frozen=True)
class UriInput:
    """A job input that travels by reference: the chain holds its hash and `uri`, and the worker
    and the verifiers fetch `data` from there (bounded, and checked against the hash)."""

    uri: str
    data: bytes


@dataclass(frozen=True)
class Submission:
    batch_id: int
    job_ids: list[int]
    tx_hash: str


#: Accounts per `collectFees` transaction: about 5,500 gas each, well inside a block.
FEE_ACCOUNTS_PER_TX = 200


def collect_fees(chain: ChainClient) -> tuple[list[str], int]:
    """Credits to the treasury the protocol fees that workers' batch payouts owe (anyone may;
    the treasury then withdraws). The workers are those of `BatchFinalized` events since the
    deployment. Returns the accounts that owed fees and the credits collected."""
    market = chain.market
    logs = market.events.BatchFinalized().get_logs(from_block=chain.deployment.block_number)
    workers = sorted({str(log["args"]["worker"]) for log in logs})
    owed = {w: int(market.functions.feesOwed(w).call()) for w in workers}
    owing = [w for w in workers if owed[w]]
    if owing:
        sender = chain.require_sender()
        for start in range(0, len(owing), FEE_ACCOUNTS_PER_TX):
            sender.transact(market.functions.collectFees(owing[start : start + FEE_ACCOUNTS_PER_TX]))
    return owing, sum(owed.values())


class RequesterClient:
    def __init__(self, client: ChainClient, allow_private: bool | None = None):
        self.chain = client
        self.market = client.market
        self.http = httpx.Client(timeout=10.0)  # One connection pool, not a TLS context per fetch.
        # Workers at private addresses are reached only on a local devnet unless told otherwise.
        self.allow_private = client.deployment.chain_id == DEVNET_CHAIN_ID if allow_private is None else allow_private

    def model_id(self, name: str) -> bytes:
        model_id = bytes(self.chain.registry.functions.modelIdByName(name).call())
        if model_id == b"\x00" * 32:
            raise ClientError(f"unknown model {name!r}")
        return model_id

    def deposit(self, amount: int) -> str:
        """Deposits `amount` credit base units into the market, approving it first if need be.
        `submit` pays from that balance before the wallet. Returns the transaction hash."""
        sender = self._approved(amount)
        return str(sender.transact(self.market.functions.deposit(amount))["transactionHash"].hex())

    def _approved(self, amount: int) -> TxSender:
        """The signer, with the market allowed to pull at least `amount` of its credits (it
        approves the maximum once, when the allowance falls short)."""
        sender = self.chain.require_sender()
        if self.chain.credit.functions.allowance(sender.address, self.market.address).call() < amount:
            sender.transact(self.chain.credit.functions.approve(self.market.address, MAX_UINT))
        return sender

    def submit(
        self,
        model: str,
        inputs: Sequence[bytes | UriInput],
        price: int,
        *,
        timeout: int = 600,
        audit_bps: int = 0,
        reopen: bool = False,
    ) -> Submission:
        """Escrows one batch of jobs, paid from the market balance first (see `deposit`), then
        from the wallet; returns its id and the job ids. An input is its bytes, carried in the
        transaction, or a `UriInput`, of which only the hash and the URI are."""
        entries = [(keccak(x.data), b"", x.uri) if isinstance(x, UriInput) else (keccak(x), x, "") for x in inputs]
        request = (self.model_id(model), price, timeout, audit_bps, reopen, entries)
        sender = self._approved(len(inputs) * price * 2)
        receipt = sender.transact(self.market.functions.createBatches([request]))
        (event,) = self.market.events.BatchCreated().process_receipt(receipt, errors=DISCARD)
        batch_id = event["args"]["batchId"]
        return Submission(batch_id, [job_id(batch_id, i) for i in range(len(inputs))], receipt["transactionHash"].hex())

    def max_batch_jobs(self, price: int) -> int:
        """The most jobs one batch at `price` may hold: the market's batch size, and the jobs whose
        collateral fits under its cap per batch (so that any verifier can afford to dispute it)."""
        market = self.market.functions
        size = self.chain.view.params().max_batch_size
        per_job = market.collateralFor(price).call()
        return min(size, market.maxBatchCollateral().call() // per_job) if per_job else size

    def status(self, batch_id: int) -> str:
        return batch_status_name(self.chain.view.batch_status(batch_id))

    def job_status(self, job: int) -> str:
        """A job's status, from its batch's and its audit's."""
        return job_status(self.chain.view.job_batch(job).status, self.chain.view.audit_status(job))

    def wait(self, batch_id: int, until: set[str], timeout: float = 60.0, poll: float = 0.1) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.status(batch_id)
            if status in until:
                return status
            time.sleep(poll)
        raise ClientError(f"batch {batch_id} still {self.status(batch_id)} after {timeout}s")

    def committed(self, batch_id: int) -> tuple[str, list[bytes]]:
        """The worker that committed a batch's results, and its result commitments in job order,
        from `ResultsCommitted` (events keep a batch that has left storage on finalization)."""
        logs = self.market.events.ResultsCommitted().get_logs(
            argument_filters={"batchId": batch_id}, from_block=self.chain.deployment.block_number
        )
        if not logs:
            raise NotServedYetError(f"batch {batch_id} has no committed results")
        args = logs[-1]["args"]
        return str(args["worker"]), [bytes(h) for h in args["outputHashes"]]

    def _get(self, url: str, model: type[Wire], timeout: float, params: dict[str, Any] | None = None) -> Wire:
        """A worker's answer, bounded and checked against the worker API's schema."""
        limits = FetchLimits(timeout, MAX_RESULTS_BYTES, self.allow_private)
        try:
            return model.model_validate_json(fetch(self.http, url, limits, params))
        except FetchError as exc:
            raise ClientError(str(exc)) from None
        except ValidationError as exc:
            raise ClientError(f"{url} answered with something other than results: {exc.errors()[0]['msg']}") from None

    def fetch(self, job_id: int, timeout: float = 10.0) -> bytes:
        """A job's output from its worker, checked against the commitment on chain (asked for
        again until `timeout` while the worker has not served it yet, as `fetch_batch`)."""
        (output,) = self._retrying(lambda left: self._fetch(batch_of(job_id), [index_of(job_id)], left), timeout)
        return output

    def stream(self, job_id: int, timeout: float = 60.0) -> Iterator[tuple[str, str | None]]:
        """A generation's text as its worker generates it: (new text, None) pieces, then
        ("", finish reason). The worker streams a job only once it has taken its batch on chain.
        What is streamed is unverified until the commit lands: check it against `fetch`."""
        batch_id = batch_of(job_id)
        self.wait(batch_id, {"taken", *COMMITTED}, timeout=timeout, poll=0.05)
        worker = self.chain.view.batch(batch_id).worker
        url = self.chain.staking.functions.workerUrl(worker).call()
        limits = FetchLimits(timeout, MAX_RESULTS_BYTES, self.allow_private)
        try:
            for line in stream_lines(self.http, f"{url}/v1/stream/{job_id}", limits):
                piece = StreamPiece.model_validate_json(line)
                yield (piece.text or "", None) if piece.finish_reason is None else ("", piece.finish_reason)
        except FetchError as exc:
            raise ClientError(f"the stream of job {job_id} failed: {exc}") from None
        except ValidationError as exc:
            raise ClientError(f"the worker streamed something other than text: {exc.errors()[0]['msg']}") from None

    def fetch_batch(self, batch_id: int, timeout: float = 10.0) -> list[bytes]:
        """Every output of a batch, in job order, from its worker in one request per 256 jobs,
        each checked against the commitment on chain. Outputs not served yet of a batch the
        chain says is committed are asked for again until `timeout`."""
        return self._retrying(lambda left: self._fetch(batch_id, None, left), timeout)

    @staticmethod
    def _retrying(fetch: Callable[[float], list[bytes]], timeout: float) -> list[bytes]:
        """`fetch(seconds left)`, again while it raises `NotServedYetError`, until `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return fetch(max(0.5, deadline - time.monotonic()))
            except NotServedYetError:
                if time.monotonic() + NOT_SERVED_RETRY_S >= deadline:
                    raise
                time.sleep(NOT_SERVED_RETRY_S)

    def _fetch(self, batch_id: int, indexes: list[int] | None, timeout: float) -> list[bytes]:
        """The outputs of a batch's jobs at `indexes` (all if None), checked against the chain."""
        worker, expected = self.committed(batch_id)
        url = self.chain.staking.functions.workerUrl(worker).call()
        if indexes is None:
            indexes = list(range(len(expected)))
        if any(not 0 <= i < len(expected) for i in indexes):
            raise ClientError(f"batch {batch_id} has {len(expected)} jobs")
        ids = [job_id(batch_id, index) for index in indexes]
        served: dict[int, bytes] = {}
        for start in range(0, len(ids), MAX_RESULTS):
            chunk = ids[start : start + MAX_RESULTS]
            body = self._get(f"{url}/v1/results", ServedResults, timeout, params={"ids": chunk})
            if body.missing:
                raise NotServedYetError(f"worker at {url} has no result for jobs {body.missing}")
            served |= {r.job_id: r.output for r in body.results}
        for job, index in zip(ids, indexes, strict=True):
            if job not in served:
                raise ClientError(f"worker at {url} left job {job} out of its answer")
            if result_commitment(worker, job, served[job]) != expected[index]:
                raise ClientError(
                    f"job {job}: served output (hash 0x{keccak(served[job]).hex()}) does not match the commitment "
                    f"on chain, 0x{expected[index].hex()}"
                )
        return [served[job] for job in ids]

    def batch_request(self, batch_id: int) -> dict[str, Any]:
        """The batch as created (model, price, inputs), from its `BatchCreated` event."""
        logs = self.market.events.BatchCreated().get_logs(
            argument_filters={"batchId": batch_id}, from_block=self.chain.deployment.block_number
        )
        if not logs:
            raise ClientError(f"no batch {batch_id} on this chain")
        args = dict(logs[0]["args"])
        names = {v["model_id"]: k for k, v in self.chain.registered_models().items()}
        args["model"] = names.get(bytes(args["modelId"]), "0x" + bytes(args["modelId"]).hex())
        return args

    def verify(self, job_id: int, engine: InferenceEngine | None = None) -> Receipt:
        """Re-verifies a past job from chain data and the worker's output, re-running the model
        locally (`engine` may already have it loaded) and comparing under the model's policy."""
        batch_id, index = batch_of(job_id), index_of(job_id)
        created = self.batch_request(batch_id)
        if index >= len(created["inputs"]):
            raise ClientError(f"batch {batch_id} has no job {index}")
        entry = created["inputs"][index]
        if entry["uri"]:
            limits = FetchLimits(10.0, self.chain.view.params().max_input_bytes, self.allow_private)
            try:
                payload = fetch(self.http, entry["uri"], limits)
            except FetchError as exc:
                raise ClientError(f"cannot fetch the input: {exc}") from None
            if keccak(payload) != bytes(entry["inputHash"]):
                raise ClientError(f"the input at {entry['uri']} does not match its hash on chain")
        else:
            payload = bytes(entry["data"])
        served = self.fetch(job_id)
        engine = engine or InferenceEngine()
        model_id = bytes(created["modelId"])
        if not engine.serves(model_id):
            engine.load([created["model"]], expected_ids={created["model"]: model_id})
        plugin = engine.plugin(model_id)
        (mine,) = engine.run(model_id, [payload])
        comparison = plugin.policy.compare(mine, served)
        worker, _ = self.committed(batch_id)
        audit_status = self.chain.view.audit_status(job_id)
        return Receipt(
            job_id=job_id,
            model=created["model"],
            model_id="0x" + model_id.hex(),
            input_hash="0x" + bytes(entry["inputHash"]).hex(),
            output_hash="0x" + keccak(served).hex(),
            local_output_hash="0x" + keccak(mine).hex(),
            worker=worker,
            requester=str(created["requester"]),
            status=self.job_status(job_id),
            audit=audit_status_name(audit_status),
            payment=int(created["price"]),
            policy=plugin.policy.mode,
            verified=comparison.accepted,
            reason=comparison.reason,
        )
