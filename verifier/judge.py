"""Judging jobs: re-run each model's jobs in one batched forward pass, fetch what their workers
serve, and compare under the model's policy.

Everything a worker or a requester's server sends is hostile until checked: fetches are bounded
(`node.net`), answers are validated against the worker API's schema (`node.wire`), and bytes no
output decodes to are a reject, never an exception. A failure that is not the worker's (an input
that cannot be had, an error of this node's own) leaves the job unjudged, to be tried again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import httpx
from eth_utils import keccak
from pydantic import ValidationError

from node.chain.market import Market
from node.chain.protocol import index_of, result_commitment
from node.config import VerifierSettings
from node.inference.engine import InferenceEngine
from node.inference.policy import ZERO_HASH, Comparison
from node.metrics import Metrics
from node.net import FetchError, FetchLimits, fetch
from node.wire import MAX_RESULTS, ServedResults

log = logging.getLogger(__name__)

Verdicts = dict[int, tuple[bool, bytes]]  # Job -> (accepted, keccak of this verifier's output).


class Judge:
    def __init__(
        self,
        engine: InferenceEngine,
        view: Market,
        worker_url: Callable[[str], str],
        settings: VerifierSettings,
        metrics: Metrics,
        http: httpx.Client,
    ):
        self.engine, self.view, self.worker_url = engine, view, worker_url
        self.settings, self.metrics, self.http = settings, metrics, http

    def judge(self, jobs: list[tuple[int, str, dict[str, Any]]]) -> tuple[Verdicts, list[int]]:
        """Verdicts on (job, model id, batch record) triples, and the jobs left to try again."""
        by_model: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        for job, model_hex, data in jobs:
            by_model.setdefault(model_hex, []).append((job, data))
        verdicts: Verdicts = {}
        retry: list[int] = []
        for model_hex, group in by_model.items():
            try:
                verdicts |= self._judge_model(bytes.fromhex(model_hex[2:]), group, retry)
            except Exception:  # One model's failure is its jobs', never the daemon's.
                log.exception("judging failed; retrying later", extra={"jobs": [job for job, _ in group]})
                retry += [job for job, _ in group]
        return verdicts, retry

    def _judge_model(self, model_id: bytes, group: list[tuple[int, dict[str, Any]]], retry: list[int]) -> Verdicts:
        """Verdicts on one model's jobs. A job whose input cannot be had (unreachable, too large,
        or not the bytes its hash names) is not judged now: rejecting it would accuse a worker
        of what the requester's server did."""
        plugin = self.engine.plugin(model_id)
        judged, inputs = [], []
        for job, data in group:
            try:
                inputs.append(self._input(data["inputs"][index_of(job)]))
                judged.append((job, data))
            except FetchError as exc:
                log.info("input unavailable; retrying later", extra={"job_id": job, "error": str(exc)})
                retry.append(job)
        if not judged:
            return {}
        claimed = self._fetch_outputs(judged)
        checked, verdicts = [], {}
        for i, (job, data) in enumerate(judged):
            output = claimed.get(job)
            if output is None:
                verdicts[job] = (self._log_verdict(job, Comparison(False, "output withheld or unreachable")), ZERO_HASH)
            elif result_commitment(data["worker"], job, output).hex() != data["hashes"][index_of(job)]:
                mismatch = Comparison(False, "served output does not match the commitment on chain")
                verdicts[job] = (self._log_verdict(job, mismatch), ZERO_HASH)
            else:
                checked.append((job, inputs[i], output))
        if not checked:
            return verdicts
        started = time.perf_counter()
        results = self.engine.verify(plugin.model_id, [x for _, x, _ in checked], [c for *_, c in checked])
        self.metrics.inference_seconds.labels(plugin.name).observe(time.perf_counter() - started)
        self.metrics.jobs.labels(plugin.name).inc(len(checked))
        for (job, _, _), (comparison, mine) in zip(checked, results, strict=True):
            verdicts[job] = (self._log_verdict(job, comparison), keccak(mine))
        return verdicts

    def _log_verdict(self, job: int, comparison: Comparison) -> bool:
        log.info("job judged", extra={"job_id": job, "accepted": comparison.accepted, "reason": comparison.reason})
        return comparison.accepted

    def _input(self, entry: dict[str, Any]) -> bytes:
        """A job's input: inline, or fetched from its URI within the protocol's input limit."""
        if not entry["uri"]:
            return bytes.fromhex(entry["data"])
        limit = self.view.params().max_input_bytes
        payload = fetch(self.http, entry["uri"], self._limits(limit))
        if keccak(payload).hex() != entry["hash"]:
            raise FetchError(f"{entry['uri']} served bytes that are not the job's input")
        return payload

    def _limits(self, max_bytes: int) -> FetchLimits:
        return FetchLimits(self.settings.fetch_timeout, max_bytes, self.settings.allow_private_peers)

    def _fetch_outputs(self, group: list[tuple[int, dict[str, Any]]]) -> dict[int, bytes]:
        """The outputs the workers serve for these jobs, one request per worker for up to
        `MAX_RESULTS` jobs. A job left out was withheld, or its worker is unreachable."""
        by_worker: dict[str, list[int]] = {}
        for job, data in group:
            by_worker.setdefault(data["worker"], []).append(job)
        outputs: dict[int, bytes] = {}
        for worker, jobs in by_worker.items():
            for start in range(0, len(jobs), MAX_RESULTS):
                outputs |= self._fetch_chunk(worker, jobs[start : start + MAX_RESULTS])
        return outputs

    def _fetch_chunk(self, worker: str, jobs: list[int]) -> dict[int, bytes]:
        """The outputs a worker serves for these jobs. Whatever it answers is bounded and checked
        against the API's schema: a worker that answers with anything else withheld them all."""
        try:
            url = f"{self.worker_url(worker)}/v1/results"
            body = fetch(self.http, url, self._limits(self.settings.max_results_bytes), params={"ids": jobs})
            served = ServedResults.model_validate_json(body)
        except (FetchError, ValidationError) as exc:
            log.info("worker served no valid results", extra={"worker": worker, "error": str(exc)[:300]})
            return {}
        asked = set(jobs)
        return {r.job_id: r.output for r in served.results if r.job_id in asked}
