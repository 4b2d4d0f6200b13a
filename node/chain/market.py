"""The protocol's contracts behind typed reads, in the manner of infernet-node's coordinator:
callers get `Batch`, `Audit`, `Stake` and `Params`, never web3 tuples."""

from __future__ import annotations

from web3.contract import Contract

from node.chain.protocol import Audit, AuditStatus, Batch, BatchStatus, Params, Role, Stake, Vote, batch_of


class Market:
    """Typed views of the job market, the verification game and staking."""

    def __init__(self, market: Contract, game: Contract, staking: Contract):
        self.market, self.game, self.staking = market, game, staking
        self._params: Params | None = None

    def batch(self, batch_id: int) -> Batch:
        return Batch.decode(self.market.functions.getBatch(batch_id).call())

    def batch_status(self, batch_id: int) -> BatchStatus:
        return self.batch(batch_id).status

    def audit(self, job: int) -> Audit:
        return Audit.decode(self.game.functions.getAudit(job).call())

    def audit_status(self, job: int) -> AuditStatus:
        return self.audit(job).status

    def job_batch(self, job: int) -> Batch:
        return self.batch(batch_of(job))

    def vote_of(self, job: int, verifier: str) -> Vote:
        return Vote(self.game.functions.voteOf(job, verifier).call())

    def batch_audits(self, batch_id: int) -> tuple[int, int]:
        """Open audits of a batch, and the time until which its jobs may be challenged."""
        open_audits, until = self.game.functions.batchAudits(batch_id).call()
        return int(open_audits), int(until)

    def stake(self, account: str, role: Role) -> Stake:
        return Stake.decode(self.staking.functions.getStake(account, int(role)).call())

    def params(self) -> Params:
        """The parameters, fixed at deployment: read once."""
        if self._params is None:
            self._params = Params.decode(self.market.functions.params().call())
        return self._params
