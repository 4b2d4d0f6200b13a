// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IStaking} from "./interfaces/IStaking.sol";
import {JobLedger} from "./JobLedger.sol";

/// @title JobAudits
/// @notice The verification half of the job market: the audit draw over a batch's jobs,
///         verifier verdicts, challenges, disputes settled by majority, slashing, and the
///         per-job payout rules, on the books of `JobLedger`.
/// @dev Randomness. The audit draw uses `blockhash(seedBlock)`, where `seedBlock` is the block
///      after the commit, so the worker cannot know it when committing and nobody can choose
///      when it is taken. `blockhash` reaches back 256 blocks; a seed out of reach is re-armed
///      to the next block rather than read as "not audited". Panels and replacements mix the
///      previous block hash with `prevrandao`.
abstract contract JobAudits is JobLedger, ReentrancyGuardTransient {
    /// @dev How many active verifiers a draw looks at before giving up.
    uint256 private constant MAX_PROBES = 8;
    /// @dev How many of a batch's jobs settle one by one (audited or challenged), so that
    ///      finalizing the batch pays only the others.
    mapping(uint256 batchId => uint256 count) internal _auditedJobs;
    mapping(uint256 jobId => Audit) private _audits;
    /// @dev The verifiers on a job: the assigned auditor, or in a dispute the accuser first,
    ///      then the panel.
    mapping(uint256 jobId => address[]) private _jobVerifiers;
    mapping(uint256 jobId => mapping(address verifier => Vote)) private _votes;

    // ------------------------------------------------------------ verifiers

    /// @notice Votes on a job: the assigned auditor's verdict, or a panel member's vote in a
    ///         dispute. An auditor's accept pays the job out; its reject opens a dispute.
    /// @param jobId The job (`batchId << 16 | index`).
    /// @param accept Whether the worker's output is within the model's verification policy.
    /// @param outputHash The hash of the verifier's own output, for the record.
    function submitVerdict(uint256 jobId, bool accept, bytes32 outputHash) external nonReentrant {
        _submitVerdict(jobId, accept, outputHash);
    }

    /// @notice Votes on several jobs in one transaction, in order, each as `submitVerdict` does.
    ///         A vote that `submitVerdict` would refuse reverts them all.
    /// @param jobIds The jobs.
    /// @param accepts For each job, whether the worker's output is within the policy.
    /// @param outputHashes For each job, the hash of the verifier's own output.
    function submitVerdicts(uint256[] calldata jobIds, bool[] calldata accepts, bytes32[] calldata outputHashes)
        external
        nonReentrant
    {
        uint256 count = jobIds.length;
        if (count == 0) revert JobMarketInvalidBatchSize(0, 0);
        if (accepts.length != count) revert JobMarketLengthMismatch(0, count, accepts.length);
        if (outputHashes.length != count) revert JobMarketLengthMismatch(0, count, outputHashes.length);
        for (uint256 i; i < count; ++i) {
            _submitVerdict(jobIds[i], accepts[i], outputHashes[i]);
        }
    }

    function _submitVerdict(uint256 jobId, bool accept, bytes32 outputHash) private {
        Audit storage audit = _audits[jobId];
        AuditStatus status = audit.status;
        if (status != AuditStatus.Assigned && status != AuditStatus.Disputed) {
            revert JobMarketInvalidJobStatus(jobId, jobStatus(jobId));
        }
        if (block.timestamp > audit.deadline) revert JobMarketDeadlinePassed(jobId, audit.deadline);
        address[] storage verifiers = _jobVerifiers[jobId];
        uint256 position = _positionOf(verifiers, msg.sender);
        bool auditor = status == AuditStatus.Assigned;
        // The auditor sits at position 0; in a dispute, position 0 is the accuser, who voted.
        if (position == type(uint256).max || (auditor != (position == 0))) {
            revert JobMarketNotAssigned(jobId, msg.sender);
        }
        if (_votes[jobId][msg.sender] != Vote.None) revert JobMarketAlreadyVoted(jobId, msg.sender);
        _votes[jobId][msg.sender] = accept ? Vote.Accept : Vote.Reject;
        emit VerdictSubmitted(jobId, msg.sender, accept, outputHash);

        BatchSlot storage batch = _batches[jobId >> INDEX_BITS];
        if (auditor) {
            if (accept) {
                _unlockVerifier(msg.sender, _collateral(batch.price));
                _payAuditedJob(jobId, batch, audit, verifiers);
            } else {
                _openDispute(jobId, batch, audit, msg.sender, false);
            }
        } else if (_allVoted(jobId, verifiers)) {
            _settleDispute(jobId, batch, audit);
        }
    }

    /// @notice Challenges an unaudited job during its batch's challenge window. The caller, an
    ///         active verifier, locks a bond like any verifier and votes reject; a panel is drawn
    ///         and the dispute settles like an audit's. The job leaves its batch's payout.
    /// @param jobId The job.
    /// @param outputHash The hash of the challenger's own output.
    function challenge(uint256 jobId, bytes32 outputHash) external {
        (, BatchSlot storage batch) = _requireJob(jobId);
        Audit storage audit = _audits[jobId];
        if (batch.status != BatchStatus.Drawn || audit.status != AuditStatus.None) {
            revert JobMarketInvalidJobStatus(jobId, jobStatus(jobId));
        }
        if (block.timestamp > batch.deadline) revert JobMarketDeadlinePassed(jobId, batch.deadline);
        if (msg.sender == _workerOf(batch)) revert JobMarketSelfVerification(jobId, msg.sender);
        _lock(msg.sender, IStaking.Role.Verifier, _collateral(batch.price));
        _jobVerifiers[jobId].push(msg.sender);
        _votes[jobId][msg.sender] = Vote.Reject;
        ++_auditedJobs[jobId >> INDEX_BITS];
        emit VerdictSubmitted(jobId, msg.sender, false, outputHash);
        _openDispute(jobId, batch, audit, msg.sender, true);
    }

    /// @notice Replaces an auditor that missed its verdict deadline. It loses its fee and its
    ///         bond is released. With no other verifier available the audit lapses and the job
    ///         is paid like an unaudited one.
    /// @param jobId The job.
    function replaceVerifier(uint256 jobId) external {
        Audit storage audit = _audits[jobId];
        if (audit.status != AuditStatus.Assigned) revert JobMarketInvalidJobStatus(jobId, jobStatus(jobId));
        if (block.timestamp <= audit.deadline) revert JobMarketDeadlineNotReached(jobId, audit.deadline);
        BatchSlot storage batch = _batches[jobId >> INDEX_BITS];
        address[] storage verifiers = _jobVerifiers[jobId];
        address previous = verifiers[0];
        uint256 bond = _collateral(batch.price);
        address replacement = _drawVerifier(_workerOf(batch), verifiers, _freshSeed(jobId), bond);
        _unlockVerifier(previous, bond);
        if (replacement == address(0)) {
            verifiers.pop();
            audit.status = AuditStatus.Lapsed;
            emit AuditLapsed(jobId);
            _payLapsedJob(jobId, batch);
        } else {
            verifiers[0] = replacement;
            verifiers.pop();
            audit.deadline = uint32(block.timestamp) + _verdictWindow;
            emit VerifierReplaced(jobId, previous, replacement);
            emit AuditAssigned(jobId, replacement, audit.deadline);
        }
    }

    /// @notice Settles a dispute once its voting deadline has passed, counting the votes cast.
    ///         Disputes settle by themselves when the last panel member votes.
    /// @param jobId The job.
    function settleDispute(uint256 jobId) external nonReentrant {
        Audit storage audit = _audits[jobId];
        if (audit.status != AuditStatus.Disputed) revert JobMarketInvalidJobStatus(jobId, jobStatus(jobId));
        if (block.timestamp <= audit.deadline) revert JobMarketDeadlineNotReached(jobId, audit.deadline);
        _settleDispute(jobId, _batches[jobId >> INDEX_BITS], audit);
    }

    // ---------------------------------------------------------------- getters

    /// @notice A job's status, from its batch and its audit.
    ///         A batch finalized with no job audited has left storage: each of its ids then
    ///         reads Finalized, whatever the index.
    function jobStatus(uint256 jobId) public view returns (JobStatus) {
        BatchSlot storage batch = _batches[jobId >> INDEX_BITS];
        if (batch.status == BatchStatus.None) {
            return _wasCreated(jobId >> INDEX_BITS) ? JobStatus.Finalized : JobStatus.None;
        }
        if ((jobId & type(uint16).max) >= batch.size) return JobStatus.None;
        AuditStatus audit = _audits[jobId].status;
        if (audit == AuditStatus.Assigned) return JobStatus.Audited;
        if (audit == AuditStatus.Disputed) return JobStatus.Disputed;
        if (audit == AuditStatus.Rejected) return JobStatus.Rejected;
        if (audit != AuditStatus.None) return JobStatus.Finalized;
        BatchStatus status = batch.status;
        if (status == BatchStatus.Open) return JobStatus.Open;
        if (status == BatchStatus.Taken) return JobStatus.Taken;
        if (status == BatchStatus.Committed) return JobStatus.Committed;
        if (status == BatchStatus.Drawn) return JobStatus.Unaudited;
        if (status == BatchStatus.Finalized) return JobStatus.Finalized;
        if (status == BatchStatus.Expired) return JobStatus.Expired;
        return JobStatus.Cancelled;
    }

    /// @notice A job's audit record (status None if it was never audited or challenged).
    function getAudit(uint256 jobId) external view returns (Audit memory) {
        return _audits[jobId];
    }

    /// @notice How many of a batch's jobs settle one by one (audited or challenged).
    function auditedJobs(uint256 batchId) external view returns (uint256) {
        return _auditedJobs[batchId];
    }

    /// @notice The verifiers on a job: the auditor, or the accuser followed by the panel.
    function jobVerifiers(uint256 jobId) external view returns (address[] memory) {
        return _jobVerifiers[jobId];
    }

    /// @notice A verifier's vote on a job.
    function voteOf(uint256 jobId, address verifier) external view returns (Vote) {
        return _votes[jobId][verifier];
    }

    // -------------------------------------------------------------- internals

    /// @dev Runs a committed batch's audit draw on its record in memory (`status` becomes
    ///      Drawn, or `seedBlock` is re-armed), which the caller stores. Returns whether it ran
    ///      (false if the seed was re-armed) and how many jobs it put under audit. `AuditsDrawn`
    ///      is left out when `quiet` and no job was audited: a finalize's `BatchFinalized`, with
    ///      every job paid, records such a draw (1,381 gas less).
    function _drawAudits(uint256 batchId, BatchSlot memory batch, bool quiet)
        internal
        returns (bool drawn, uint256 audited)
    {
        bytes32 seed = blockhash(batch.seedBlock);
        if (seed == bytes32(0)) {
            uint32 seedBlock = uint32(block.number + 1);
            batch.seedBlock = seedBlock;
            emit AuditSeedRearmed(batchId, seedBlock);
            return (false, 0);
        }
        uint256 auditBps = batch.auditBps;
        if (auditBps != 0) {
            uint256 size = batch.size;
            address worker = _accountAt[batch.workerId];
            uint256 bond = _collateral(batch.price);
            for (uint256 i; i < size; ++i) {
                uint256 jobId = (batchId << INDEX_BITS) | i;
                if (
                    uint256(keccak256(abi.encode(seed, jobId))) % BPS < auditBps
                        && _assignAudit(jobId, worker, bond, seed)
                ) {
                    ++audited;
                }
            }
            if (audited != 0) _auditedJobs[batchId] += audited;
        }
        batch.status = BatchStatus.Drawn;
        if (!quiet || audited != 0) emit AuditsDrawn(batchId, audited);
        return (true, audited);
    }

    function _assignAudit(uint256 jobId, address worker, uint256 bond, bytes32 seed) private returns (bool) {
        bytes32 verifierSeed = keccak256(abi.encode(seed, jobId, "verifier"));
        address verifier = _drawVerifier(worker, _jobVerifiers[jobId], verifierSeed, bond);
        if (verifier == address(0)) {
            emit AuditUnavailable(jobId);
            return false;
        }
        uint32 deadline = uint32(block.timestamp) + _verdictWindow;
        _audits[jobId] = Audit({status: AuditStatus.Assigned, deadline: deadline});
        emit AuditAssigned(jobId, verifier, deadline);
        return true;
    }

    /// @dev Draws a panel of up to `panelSize` more verifiers and opens the dispute.
    function _openDispute(uint256 jobId, BatchSlot storage batch, Audit storage audit, address accuser, bool isChallenge)
        private
    {
        address[] storage verifiers = _jobVerifiers[jobId];
        uint256 bond = _collateral(batch.price);
        bytes32 seed = _freshSeed(jobId);
        uint256 panelSize = _panelSize;
        address[] memory panel = new address[](panelSize);
        address worker = _workerOf(batch);
        uint256 drawn;
        for (; drawn < panelSize; ++drawn) {
            address member = _drawVerifier(worker, verifiers, keccak256(abi.encode(seed, drawn)), bond);
            if (member == address(0)) break;
            panel[drawn] = member;
        }
        // Trim the panel to the members actually drawn.
        assembly ("memory-safe") {
            mstore(panel, drawn)
        }
        uint32 deadline = uint32(block.timestamp) + _verdictWindow;
        audit.status = AuditStatus.Disputed;
        audit.deadline = deadline;
        emit DisputeOpened(jobId, accuser, isChallenge, panel, deadline);
    }

    /// @dev Decides a dispute by majority of the votes cast (a tie goes to the worker), slashes
    ///      the losing side's locked collateral and credits everyone.
    function _settleDispute(uint256 jobId, BatchSlot storage batch, Audit storage audit) private {
        (uint256 acceptVotes, uint256 rejectVotes) = _countVotes(jobId);
        bool workerWon = acceptVotes >= rejectVotes;
        emit DisputeSettled(jobId, workerWon, acceptVotes, rejectVotes);

        uint256 batchId = jobId >> INDEX_BITS;
        uint256 bond = _collateral(batch.price);
        address worker = _workerOf(batch);
        (address[] memory winners, uint256 pool) = _settleBonds(jobId, workerWon ? Vote.Accept : Vote.Reject, bond);
        if (workerWon) {
            _payAuditedJob(jobId, batch, audit, winners);
            _distributeSlash(batchId, pool, worker, winners);
        } else {
            address requester = _requesterOf(batch);
            pool += _slash(batchId, worker, IStaking.Role.Worker, bond);
            audit.status = AuditStatus.Rejected;
            emit JobRejected(jobId, worker, requester);
            _creditBalance(requester, batchId, batch.price + _premium(batch.price, batch.auditBps), CreditReason.Refund);
            _distributeSlash(batchId, pool, requester, winners);
        }
    }

    function _countVotes(uint256 jobId) private view returns (uint256 acceptVotes, uint256 rejectVotes) {
        address[] storage verifiers = _jobVerifiers[jobId];
        for (uint256 i; i < verifiers.length; ++i) {
            Vote vote = _votes[jobId][verifiers[i]];
            if (vote == Vote.Accept) ++acceptVotes;
            else if (vote == Vote.Reject) ++rejectVotes;
        }
    }

    /// @dev Releases the bonds of verifiers who voted `winning` (returned as `winners`) or did
    ///      not vote, and slashes the rest into `pool`.
    function _settleBonds(uint256 jobId, Vote winning, uint256 bond)
        private
        returns (address[] memory winners, uint256 pool)
    {
        address[] storage verifiers = _jobVerifiers[jobId];
        uint256 count = verifiers.length;
        winners = new address[](count);
        uint256 winnerCount;
        for (uint256 i; i < count; ++i) {
            address verifier = verifiers[i];
            Vote vote = _votes[jobId][verifier];
            if (vote == winning) {
                winners[winnerCount++] = verifier;
                _unlockVerifier(verifier, bond);
            } else if (vote == Vote.None) {
                _unlockVerifier(verifier, bond);
            } else {
                pool += _slash(jobId >> INDEX_BITS, verifier, IStaking.Role.Verifier, bond);
            }
        }
        // Trim `winners` to the entries written.
        assembly ("memory-safe") {
            mstore(winners, winnerCount)
        }
    }

    /// @dev Pays an audited job the worker won: the verifier fee is split among `verifiers`
    ///      (who were right), paid from the premium if the requester paid one, else from the
    ///      price. Unlocks the worker's collateral for the job.
    function _payAuditedJob(uint256 jobId, BatchSlot storage batch, Audit storage audit, address[] memory verifiers)
        private
    {
        uint256 batchId = jobId >> INDEX_BITS;
        uint256 price = batch.price;
        uint256 protocolFee = price * _protocolFeeBps / BPS;
        uint256 fee = price * _verifierFeeBps / BPS;
        bool premiumPaid = _premium(batch.price, batch.auditBps) != 0;
        uint256 workerPayment = premiumPaid ? price - protocolFee : price - protocolFee - fee;
        address worker = _workerOf(batch);
        audit.status = AuditStatus.Accepted;
        emit JobFinalized(jobId, worker, workerPayment);
        _unlock(worker, IStaking.Role.Worker, _collateral(batch.price));
        _creditBalance(worker, batchId, workerPayment, CreditReason.WorkerPayment);
        _creditBalance(_treasury, batchId, protocolFee, CreditReason.ProtocolFee);
        _splitCredit(batchId, fee, verifiers, CreditReason.VerifierFee);
    }

    /// @dev Pays a job whose audit lapsed as if it were unaudited.
    function _payLapsedJob(uint256 jobId, BatchSlot storage batch) private {
        uint256 batchId = jobId >> INDEX_BITS;
        (uint256 workerPayment, uint256 protocolFee, uint256 premium) =
            _unauditedPayout(batch.price, batch.auditBps, 1);
        address worker = _workerOf(batch);
        emit JobFinalized(jobId, worker, workerPayment);
        _unlock(worker, IStaking.Role.Worker, _collateral(batch.price));
        _creditBalance(worker, batchId, workerPayment, CreditReason.WorkerPayment);
        _creditBalance(_treasury, batchId, protocolFee, CreditReason.ProtocolFee);
        if (premium != 0) _creditBalance(_requesterOf(batch), batchId, premium, CreditReason.Refund);
    }

    /// @dev Splits a slash: `slashCheatedBps` to the cheated party, `slashVerifiersBps` among
    ///      the verifiers who were right (the treasury's if there are none), the rest to the
    ///      treasury.
    function _distributeSlash(uint256 batchId, uint256 pool, address cheated, address[] memory winners) internal {
        if (pool == 0) return;
        uint256 cheatedShare = pool * _slashCheatedBps / BPS;
        uint256 verifierShare = winners.length == 0 ? 0 : pool * _slashVerifiersBps / BPS;
        _creditBalance(cheated, batchId, cheatedShare, CreditReason.SlashShare);
        uint256 paid = _splitCredit(batchId, verifierShare, winners, CreditReason.SlashShare);
        _creditBalance(_treasury, batchId, pool - cheatedShare - paid, CreditReason.SlashShare);
    }

    /// @dev Credits an equal share of `amount` to each account and returns the total credited.
    ///      A fee's rounding remainder goes to the treasury; a slash's is left to the caller.
    function _splitCredit(uint256 batchId, uint256 amount, address[] memory accounts, CreditReason reason)
        private
        returns (uint256 paid)
    {
        uint256 count = accounts.length;
        if (count == 0 || amount == 0) return 0;
        uint256 each = amount / count;
        for (uint256 i; i < count; ++i) {
            _creditBalance(accounts[i], batchId, each, reason);
        }
        paid = each * count;
        if (reason == CreditReason.VerifierFee && paid != amount) {
            _creditBalance(_treasury, batchId, amount - paid, CreditReason.ProtocolFee);
            paid = amount;
        }
    }

    /// @dev Picks a random active verifier that is not the worker, not already on the job and
    ///      has free stake for the bond, locks the bond and appends it to `verifiers`. Returns
    ///      zero if none is found within `MAX_PROBES`.
    function _drawVerifier(address worker, address[] storage verifiers, bytes32 seed, uint256 bond)
        private
        returns (address)
    {
        uint256 count = _staking.activeVerifierCount();
        if (count == 0) return address(0);
        uint256 start = uint256(seed) % count;
        uint256 probes = count < MAX_PROBES ? count : MAX_PROBES;
        for (uint256 j; j < probes; ++j) {
            address candidate = _staking.activeVerifierAt((start + j) % count);
            if (candidate == worker || _positionOf(verifiers, candidate) != type(uint256).max) continue;
            (bool locked,,) = _tryLock(candidate, IStaking.Role.Verifier, bond);
            if (!locked) continue;
            verifiers.push(candidate);
            return candidate;
        }
        return address(0);
    }

    function _unlockVerifier(address verifier, uint256 bond) private {
        _unlock(verifier, IStaking.Role.Verifier, bond);
    }

    function _allVoted(uint256 jobId, address[] storage verifiers) private view returns (bool) {
        for (uint256 i; i < verifiers.length; ++i) {
            if (_votes[jobId][verifiers[i]] == Vote.None) return false;
        }
        return true;
    }

    /// @dev The index of `account` in `accounts`, or `type(uint256).max`.
    function _positionOf(address[] storage accounts, address account) private view returns (uint256) {
        for (uint256 i; i < accounts.length; ++i) {
            if (accounts[i] == account) return i;
        }
        return type(uint256).max;
    }

    /// @dev Randomness for draws the caller can trigger at any time (panels, replacements).
    function _freshSeed(uint256 jobId) private view returns (bytes32) {
        return keccak256(abi.encode(blockhash(block.number - 1), block.prevrandao, jobId));
    }

    /// @dev The batch of an existing job; reverts for an unknown job.
    function _requireJob(uint256 jobId) private view returns (uint256 batchId, BatchSlot storage batch) {
        batchId = jobId >> INDEX_BITS;
        batch = _batches[batchId];
        if (batch.status == BatchStatus.None || (jobId & type(uint16).max) >= batch.size) {
            revert JobMarketInvalidJobStatus(jobId, jobStatus(jobId));
        }
    }

}
