"""The verifier daemon: re-executes audited jobs and votes; challenges what it samples.

For each job it must judge (an audit assigned to it, a dispute panel it sits on, or an unaudited
job it sampled as an auditor) it fetches the worker's output over HTTP, checks it against the
hash committed on chain (a missing or mismatching output is a reject), re-runs the model on the
job's input, and compares the two under the model's registered policy. It also keeps the
protocol moving: it expires batches whose worker went silent, replaces verifiers that timed out,
settles disputes whose deadline passed, and draws the audits of batches that their workers'
finalize would draw too late (see `_draw_due`).

Work is kept as durable tasks in the store, so a restart loses nothing.
"""

from __future__ import annotations

import logging
import random
import time
from functools import partial

from node.chain.errors import NOT_DUE_ERRORS, ContractRevertError
from node.chain.listener import ChainEvent
from node.chain.protocol import AuditStatus, BatchStatus, batch_of, job_id
from node.config import VerifierSettings
from node.daemon import NodeDaemon
from node.errors import ConfigError
from node.inference.base import served_name
from node.metrics import Metrics
from node.store import VerifierBatch
from verifier.errors import PolicyMismatchError
from verifier.judge import Judge
from verifier.keepers import KeeperTurns
from verifier.pipeline import TxPipeline
from verifier.reconcile import restore_batches

log = logging.getLogger(__name__)

# Reverts that mean the work was already done by someone else, or is over: logged at info.
EXPECTED_RACES = {
    "JobMarketInvalidBatchStatus",
    "JobMarketDeadlinePassed",
    "GameInvalidAuditStatus",
    "GameAlreadyVoted",
    "GameDeadlinePassed",
    "GameNotAssigned",
    "GameNothingToDraw",
    "GameNotChallengeable",
    "GameInsufficientFreeStake",
}
# Reverts that mean "too early" for the game, besides the market's.
NOT_DUE = NOT_DUE_ERRORS | {"GameDeadlineNotReached", "GameSeedPending"}
# Bounds one pass, so that new events are read between large backlogs of work.
MAX_TASKS_PER_STEP = 256
# Verdicts, votes and challenges on distinct jobs are independent: their transactions are sent
# back to back. An auditor's verdicts of one pass go in one `submitVerdicts` transaction.
PIPELINED = ("audit", "vote", "check")
# Seats drawn per `drawVerifiers` transaction: a panel's draw can take a few hundred thousand
# gas, and the chunk must stay well under a block's gas limit.
DRAWS_PER_TX = 32
# A vote may become the one that settles its dispute (slashing, a forfeited batch, payouts) if
# another panelist's vote is mined first; its gas limit covers that path. Unused gas is not charged.
VOTE_GAS_HEADROOM = 600_000
KEEPER_DUTIES = ("draw", "timeout", "expire")  # Anyone's to do: taken in turns.
RETRY_DELAY_S = 2  # A task that came too early (the chain's clock lags) is tried again this much later.
# `blockhash` reaches back 256 blocks; past that a draw audits every job of the batch. A batch
# whose seed block is this many blocks old is drawn by the verifier, whoever finalizes it.
SEED_REACH_MARGIN = 128


class Verifier(NodeDaemon):
    name = "verifier"
    events = (
        "BatchCreated",
        "ResultsCommitted",
        "BatchTaken",
        "BatchDrawn",
        "BatchFinalized",
        "BatchForfeited",
        "AuditsDrawn",
        "DrawRequested",
        "AuditAssigned",
        "DisputeOpened",
        "PanelistDrawn",
        "PoolWeightSet",  # The staking contract's: whose turn a keeper duty is (`verifier.keepers`).
    )
    settings: VerifierSettings

    def __init__(self, settings: VerifierSettings, metrics: Metrics | None = None):
        super().__init__(settings, metrics)
        self._rng = random.Random()
        self._urls: dict[str, str] = {}
        self._verdicts: list[tuple[str, int, bool, bytes]] = []  # This pass's audit verdicts.
        self._draws: list[tuple[str, int]] = []  # This pass's draw tasks and their jobs.
        self._retry_jobs: list[int] = []  # Jobs this pass could not judge: their tasks run again.

    # ------------------------------------------------------------ lifecycle

    def setup(self) -> None:
        registered = self.connect()
        names = [m for m in self.settings.models if served_name(m) in registered]
        served = {served_name(m) for m in names}
        unserved = sorted(m for m, info in registered.items() if info["active"] and m not in served)
        if unserved and not self.settings.partial_models:
            raise ConfigError(
                f"this verifier does not serve every active model (missing: {', '.join(unserved)}); verifiers are "
                "drawn for every model's jobs and lose their bond on those they cannot judge: serve them, or set "
                "NIGHTSHIFT_PARTIAL_MODELS=true to take that risk"
            )
        if unserved:
            log.warning(
                "serving only some models: absent, and slashed, when drawn for others", extra={"unserved": unserved}
            )
        self.load_models(names, registered)
        for plugin in self.engine.plugins():
            if plugin.policy.tolerance_hash() != registered[plugin.name]["tolerance_hash"]:
                raise PolicyMismatchError(f"local policy of {plugin.name} differs from the registry's tolerance hash")
        self.turns = KeeperTurns(self.address)
        pool = self.client.staking.events.PoolWeightSet().get_logs(from_block=self.client.deployment.block_number)
        for entry in pool:  # The pool as it stands; the listener's events keep it current.
            self.turns.weight_set(entry["args"]["verifier"], entry["args"]["weight"])
        self.txs = TxPipeline(self.sender, self.listener, self.metrics, self.expected_revert, EXPECTED_RACES, NOT_DUE)
        self.judge = Judge(self.engine, self.client.view, self._worker_url, self.settings, self.metrics, self.http)
        log.info("verifier ready", extra={"address": self.address, "models": ",".join(names)})

    def _worker_url(self, worker: str) -> str:
        if worker not in self._urls:
            self._urls[worker] = self.client.staking.functions.workerUrl(worker).call()
        return self._urls[worker]

    def step(self) -> bool:
        """New events, the audit draw, then due tasks: every job to judge in this pass is re-run
        in one forward pass per model, and the transactions are pipelined."""
        handled = self.poll_events(self._on_event)
        worked = self._draw_due()
        due = [(kind, int(job)) for kind, job in (key.split(":") for key in self.store.due_tasks(int(time.time())))]
        due = due[:MAX_TASKS_PER_STEP]
        self._retry_jobs.clear()
        verdicts = self.judge_all([job for kind, job in due if kind in PIPELINED and not self._forfeited(job)])
        for kind, job in due:
            try:
                self._run_task(kind, job, verdicts)
                if kind not in PIPELINED:  # Keeper duties wait, so that later tasks see their effect.
                    self.txs.flush()
            except Exception:  # One task's failure is that task's: it runs again later.
                log.exception("task failed; retrying later", extra={"task": f"{kind}:{job}"})
                self.txs.not_due.append(f"{kind}:{job}")
        # The votes and challenges mined first: a vote may settle a dispute and forfeit its batch,
        # after which a draw for another of the batch's jobs, simulated before, would revert.
        self.txs.flush()
        self._send_draws()
        self._send_verdicts()
        self.txs.flush()
        for kind, job in due:
            self.store.finish_task(f"{kind}:{job}")
        for key in self.txs.not_due:
            self.store.reschedule_task(key, int(time.time()) + RETRY_DELAY_S + self._turn(key))
        self.txs.not_due.clear()
        return bool(handled or worked or due)

    # ------------------------------------------------------------ events

    def _on_event(self, event: ChainEvent) -> None:
        self.metrics.events.labels(event.name).inc()
        a = event.args
        name = event.name
        if name == "PoolWeightSet":
            self.turns.weight_set(a["verifier"], a["weight"])
        elif name == "BatchCreated" and self.engine.serves(bytes(a["modelId"])):
            inputs = [
                {"hash": bytes(i["inputHash"]).hex(), "data": bytes(i["data"]).hex(), "uri": i["uri"]}
                for i in a["inputs"]
            ]
            data = {"inputs": inputs, "block": event.block}
            self.store.put_batch(a["batchId"], "0x" + bytes(a["modelId"]).hex(), VerifierBatch.CREATED, data)
        elif name == "ResultsCommitted" and self.store.batch(a["batchId"]):
            hashes = [bytes(h).hex() for h in a["outputHashes"]]
            # The jobs to re-check if the draw leaves them unaudited, chosen now so that only
            # a batch with one needs a draw of this verifier's before its worker's finalize.
            checks = [i for i in range(len(hashes)) if self._rng.random() < self.settings.challenge_rate]
            turn = self.turns.delay(a["batchId"])
            self.store.update_batch_data(
                a["batchId"],
                worker=a["worker"],
                hashes=hashes,
                seed_block=a["seedBlock"],
                checks=checks,
                keeper_at=time.time() + turn,
            )
            self.store.set_batch_status(a["batchId"], VerifierBatch.COMMITTED, a["challengeDeadline"])
        elif name == "BatchTaken":  # Keep the protocol live: expire it if the worker goes silent.
            self._again(f"expire:{a['batchId']}", a["deadline"] + 1)
        elif name in ("BatchDrawn", "AuditsDrawn"):
            selected = set(a.get("jobIds", []))
            for job in selected:  # Keep the protocol live: draw the auditors.
                self._again(f"draw:{job}")
            if self.store.batch(a["batchId"]):
                if selected:
                    self.store.update_batch_data(a["batchId"], audited=sorted(selected))
                self.store.set_batch_status(a["batchId"], VerifierBatch.DRAWN)
                self._sample_for_challenges(a["batchId"], selected)
        elif name == "DrawRequested":  # A seat still empty: draw again from the requested block.
            self._again(f"draw:{a['jobId']}")
        elif name == "BatchFinalized" and self.store.batch(a["batchId"]):
            # Drawn in its finalize, with no event of the draw if nothing was audited: not to draw.
            self.store.set_batch_status(a["batchId"], VerifierBatch.FINALIZED)
        elif name == "BatchForfeited" and (found := self.store.batch(a["batchId"])):
            self.store.set_batch_status(a["batchId"], VerifierBatch.FORFEITED)
            for job in found[2].get("bonded", []):
                self._again(f"timeout:{job}")  # Its audits are moot: release the bonds.
        elif name == "AuditAssigned":
            self._bonded(a["jobId"], a["verifier"])
            if a["verifier"] == self.address:
                self.store.add_task(f"audit:{a['jobId']}")
            self._again(f"timeout:{a['jobId']}", a["deadline"] + 1)  # Replace it if absent.
        elif name == "DisputeOpened":
            self._bonded(a["jobId"], a["accuser"])
            self._again(f"timeout:{a['jobId']}", int(time.time()) + self.client.view.params().verdict_window + 1)
        elif name == "PanelistDrawn":
            self._bonded(a["jobId"], a["verifier"])
            if a["verifier"] == self.address:
                self.store.add_task(f"vote:{a['jobId']}")  # A panel vote: one transaction each.
            self._again(f"timeout:{a['jobId']}", a["deadline"] + 1)

    def reconcile_reorg(self, fork: int, touched: set[int] | None) -> None:
        """A batch created after the fork is forgotten (its events come again if it is on the new
        chain); every other touched batch takes the contract's status. Every task of a touched
        batch runs again: each reads the chain's state first, and one whose work is already done
        there ends as an expected race, while one whose transaction the reorg dropped is redone."""
        ids = restore_batches(self.store, self.client.view, fork, touched)
        for key in self.store.task_keys():
            kind, job = key.split(":")
            if (int(job) if kind == "expire" else batch_of(int(job))) in ids:
                self._again(key)
        self._urls.clear()
        log.warning("reorg reconciled", extra={"fork": fork, "batches": len(ids)})

    def _again(self, key: str, due: int = 0) -> None:
        """Schedules a keeper duty that may recur for the same job (a draw, a deadline), even if
        an earlier one of that key is done (the store keeps a task's key once it ran), at this
        verifier's turn for it."""
        turn = self._turn(key)
        self.store.reschedule_task(key, max(due, int(time.time())) + turn if turn else due)

    def _turn(self, key: str) -> int:
        """The wait of a keeper duty for this verifier's turn (`verifier.keepers`); 0 for its own
        duties (its audits, votes and challenges). A retry keeps it, so that the first in turn
        retrying a duty that came too early does not meet the next one's first try."""
        kind, duty = key.split(":")
        return self.turns.delay(int(duty)) if kind in KEEPER_DUTIES else 0

    def _bonded(self, job: int, verifier: str) -> None:
        """Remembers the jobs this verifier is bonded on, to free the bonds when they are over."""
        found = self.store.batch(batch_of(job))
        if verifier == self.address and found is not None:
            self.store.update_batch_data(batch_of(job), bonded=sorted(set(found[2].get("bonded", [])) | {job}))

    def _sample_for_challenges(self, batch_id: int, audited: set[int]) -> None:
        """Re-checks the jobs sampled at the commit that the draw left unaudited."""
        found = self.store.batch(batch_id)
        if found is None:
            return
        _, _, data, challenge_deadline = found
        if time.time() > challenge_deadline:  # Replayed history: too late to challenge.
            return
        for index in data.get("checks", []):
            job = job_id(batch_id, index)
            if job not in audited:
                self.store.add_task(f"check:{job}")

    # ------------------------------------------------------------ tasks

    def _run_task(self, kind: str, job: int, verdicts: dict[int, tuple[bool, bytes]]) -> None:
        game = self.client.game.functions
        task = f"{kind}:{job}"
        if kind in PIPELINED and self._forfeited(job):
            log.info("nothing to judge: the batch was forfeited", extra={"task": task})
            return
        if kind in PIPELINED and job not in verdicts:
            if job in self._retry_jobs:
                self.txs.not_due.append(task)
            return  # Not judged (see `judge_all`).
        if kind == "audit":
            accepted, my_hash = verdicts[job]
            self._verdicts.append((task, job, accepted, my_hash))
            if accepted:  # Its bond is freed once the accept has stood its challenge window.
                self._again(f"timeout:{job}", int(time.time()) + self.client.view.params().challenge_window + 1)
        elif kind == "vote":
            accepted, my_hash = verdicts[job]
            label = "accept" if accepted else "reject"
            fn = game.submitVerdict(job, accepted, my_hash)
            self.txs.send(task, "vote", fn, lambda: self._voted(job, label), VOTE_GAS_HEADROOM)
        elif kind == "check":
            accepted, my_hash = verdicts[job]
            if not accepted:
                self.txs.send(task, "challenge", game.challenge(job, my_hash), lambda: self._challenged(job))
        elif kind == "draw":
            self._draws.append((task, job))
        elif kind == "timeout":
            self._resolve(task, job)
        elif kind == "expire":
            batch = self.client.view.batch(job)
            if batch.status == BatchStatus.TAKEN and time.time() > batch.deadline:
                self.txs.send(task, "expire", self.client.market.functions.expireBatches([job]))

    def _forfeited(self, job: int) -> bool:
        """Whether this verifier has seen the job's batch forfeited: its audits are moot."""
        return (self.store.batch(batch_of(job)) or ("", ""))[1] == VerifierBatch.FORFEITED

    def _resolve(self, task: str, job: int) -> None:
        """A deadline passed on a job: replace absent verifiers, settle, lapse, or free a bond."""
        audit = self.client.view.audit(job)
        mine = self.address == audit.auditor and audit.status == AuditStatus.ACCEPTED
        if (audit.is_open and (self._forfeited(job) or time.time() > audit.deadline)) or mine:
            self.txs.send(task, "timeout", self.client.game.functions.resolveTimeouts([job]), None, VOTE_GAS_HEADROOM)
        elif audit.is_open:
            self.txs.not_due.append(task)

    def _send_draws(self) -> None:
        """Draws this pass's seats in transactions of `DRAWS_PER_TX` jobs. If one would revert
        (another keeper drew a job first), each job of it is drawn on its own."""
        draws, self._draws = self._draws, []
        game = self.client.game.functions
        for start in range(0, len(draws), DRAWS_PER_TX):
            chunk = draws[start : start + DRAWS_PER_TX]
            if len(chunk) > 1:
                try:
                    tx_hash = self.sender.send_nowait(game.drawVerifiers([j for _, j in chunk]), VOTE_GAS_HEADROOM)
                except ContractRevertError as exc:
                    log.info("a draw in the batch would revert; drawing each alone", extra={"error": str(exc)})
                else:
                    self.txs.add([task for task, _ in chunk], "draws", tx_hash, None)
                    continue
            for task, job in chunk:
                self.txs.send(task, "draw", game.drawVerifiers([job]), None, VOTE_GAS_HEADROOM)

    def _send_verdicts(self) -> None:
        """Sends this pass's audit verdicts in one transaction. If that would revert (an audit
        moved on meanwhile: replaced, or past its deadline), each verdict goes on its own, and
        the expected races among them are logged as usual."""
        batch, self._verdicts = self._verdicts, []
        if not batch:
            return
        game = self.client.game.functions
        tasks = [task for task, *_ in batch]
        fn = game.submitVerdicts([job for _, job, _, _ in batch], [a for _, _, a, _ in batch], [h for *_, h in batch])

        def voted() -> None:
            for _, job, accepted, _ in batch:
                self._voted(job, "accept" if accepted else "reject")

        try:  # A reject opens a dispute and bonds the accusation: the headroom of a vote covers it.
            tx_hash = self.sender.send_nowait(fn, VOTE_GAS_HEADROOM)
        except ContractRevertError as exc:
            log.info("a verdict in the batch would revert; sending each alone", extra={"error": str(exc)})
            for task, job, accepted, my_hash in batch:
                label = "accept" if accepted else "reject"
                fn = game.submitVerdict(job, accepted, my_hash)
                self.txs.send(task, "vote", fn, partial(self._voted, job, label))
            return
        self.txs.add(tasks, "verdicts", tx_hash, voted)

    def _challenged(self, job: int) -> None:
        log.info("challenged", extra={"job_id": job})

    def _voted(self, job: int, label: str) -> None:
        self.metrics.verdicts.labels(label).inc()
        log.info("verdict posted", extra={"job_id": job, "accepted": label == "accept"})

    def _draw_due(self) -> bool:
        """Draws the audits of committed batches that cannot wait for their worker's finalize,
        which draws a batch first at no transaction of its own: a batch with a job this verifier
        sampled for a challenge (a challenge needs the draw, within the window), a batch whose
        seed block nears the end of `blockhash` reach, and a batch whose window has been over
        for `draw_grace` seconds, so that its audits happen even if its worker never finalizes."""
        head, now = self.listener.latest_block, time.time()
        due = []
        for batch_id, _, data, window_end in self.store.batches_with_status(VerifierBatch.COMMITTED):
            seed = data.get("seed_block", head)
            if head <= seed:
                continue
            turn = self.turns.delay(batch_id)  # Taken in turns with the other verifiers (`verifier.keepers`).
            if (
                (data.get("checks") and now >= data.get("keeper_at", 0))
                or head - seed >= SEED_REACH_MARGIN + turn
                or window_end + self.settings.draw_grace + turn < now
            ):
                due.append(batch_id)
        if not due:
            return False

        def drawn() -> None:
            for batch_id in due:
                self.store.set_batch_status(batch_id, VerifierBatch.DRAWN)

        self.txs.send("", "draw", self.client.market.functions.drawAudits(due), drawn)
        self.txs.flush()
        return True

    # ------------------------------------------------------------ judging

    def judge_all(self, jobs: list[int]) -> dict[int, tuple[bool, bytes]]:
        """Verdicts on the jobs this verifier knows the commitments of; a job it knows nothing
        of is not voted on (a reject it cannot back would be a false accusation)."""
        known = []
        for job in jobs:
            batch = self.store.batch(batch_of(job))
            if batch is None or "hashes" not in batch[2]:
                log.warning("job unknown to this verifier; not voting", extra={"job_id": job})
            else:
                known.append((job, batch[0], batch[2]))
        verdicts, self._retry_jobs = self.judge.judge(known)
        return verdicts
