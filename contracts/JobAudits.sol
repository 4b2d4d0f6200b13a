// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IJobMarket} from "./interfaces/IJobMarket.sol";
import {IStaking} from "./interfaces/IStaking.sol";

/// @title JobAudits
/// @notice The verification half of the job market: the audit draw, verifier verdicts,
///         challenges, disputes settled by majority, slashing and the payout rules. It owns the
///         job and balance storage that `JobMarket` builds on.
/// @dev Randomness. The audit draw uses `blockhash(seedBlock)`, where `seedBlock` is the block
///      after the commit, so the worker cannot know it when committing and nobody can choose
///      when it is taken. `blockhash` reaches back 256 blocks; a seed out of reach is re-armed
///      to the next block rather than read as "not audited". Panels and replacements mix the
///      previous block hash with `prevrandao`.
abstract contract JobAudits is IJobMarket, ReentrancyGuard {
    uint256 internal constant BPS = 10_000;
    /// @dev How many active verifiers a draw looks at before giving up.
    uint256 private constant MAX_PROBES = 32;

    IStaking internal immutable _staking;
    Params internal _params;

    mapping(uint256 jobId => Job) internal _jobs;
    mapping(address account => uint256 amount) internal _balances;
    /// @dev The verifiers on a job: the assigned auditor, or in a dispute the accuser first,
    ///      then the panel.
    mapping(uint256 jobId => address[]) private _jobVerifiers;
    mapping(uint256 jobId => mapping(address verifier => Vote)) private _votes;

    constructor(IStaking staking_, Params memory params_) {
        if (
            params_.treasury == address(0) || params_.protocolFeeBps + params_.verifierFeeBps > BPS
                || params_.slashCheatedBps + params_.slashVerifiersBps > BPS || params_.baseAuditBps > BPS
                || params_.challengeWindow == 0 || params_.verdictWindow == 0
        ) revert JobMarketInvalidParams();
        _staking = staking_;
        _params = params_;
    }

    // ------------------------------------------------------------ verifiers

    /// @notice Votes on a job: the assigned auditor's verdict, or a panel member's vote in a
    ///         dispute. An auditor's accept pays the job out; its reject opens a dispute.
    /// @param jobId The job.
    /// @param accept Whether the worker's output is within the model's verification policy.
    /// @param outputHash The hash of the verifier's own output, for the record.
    function submitVerdict(uint256 jobId, bool accept, bytes32 outputHash) external nonReentrant {
        Job storage job = _jobs[jobId];
        JobStatus status = job.status;
        if (status != JobStatus.Audited && status != JobStatus.Disputed) revert JobMarketInvalidStatus(jobId, status);
        if (block.timestamp > job.deadline) revert JobMarketDeadlinePassed(jobId, job.deadline);
        address[] storage verifiers = _jobVerifiers[jobId];
        uint256 position = _positionOf(verifiers, msg.sender);
        bool auditor = status == JobStatus.Audited;
        // The auditor sits at position 0; in a dispute, position 0 is the accuser, who voted.
        if (position == type(uint256).max || (auditor != (position == 0))) {
            revert JobMarketNotAssigned(jobId, msg.sender);
        }
        if (_votes[jobId][msg.sender] != Vote.None) revert JobMarketAlreadyVoted(jobId, msg.sender);
        _votes[jobId][msg.sender] = accept ? Vote.Accept : Vote.Reject;
        emit VerdictSubmitted(jobId, msg.sender, accept, outputHash);

        if (auditor) {
            if (accept) {
                _unlockVerifier(msg.sender, _collateral(job.payment));
                _payAudited(jobId, job, verifiers);
            } else {
                _openDispute(jobId, job, msg.sender, false);
            }
        } else if (_allVoted(jobId, verifiers)) {
            _settleDispute(jobId, job);
        }
    }

    /// @notice Challenges an unaudited result during its challenge window. The caller, an
    ///         active verifier, locks a bond like any verifier and votes reject; a panel is drawn
    ///         and the dispute settles like an audit's.
    /// @param jobId The job.
    /// @param outputHash The hash of the challenger's own output.
    function challenge(uint256 jobId, bytes32 outputHash) external {
        Job storage job = _requireStatus(jobId, JobStatus.Unaudited);
        if (block.timestamp > job.deadline) revert JobMarketDeadlinePassed(jobId, job.deadline);
        if (msg.sender == job.worker) revert JobMarketSelfVerification(jobId, msg.sender);
        if (!_staking.isActive(msg.sender, IStaking.Role.Verifier)) {
            revert JobMarketNotRegistered(msg.sender, IStaking.Role.Verifier);
        }
        _staking.lock(msg.sender, IStaking.Role.Verifier, _collateral(job.payment));
        _jobVerifiers[jobId].push(msg.sender);
        _votes[jobId][msg.sender] = Vote.Reject;
        emit VerdictSubmitted(jobId, msg.sender, false, outputHash);
        _openDispute(jobId, job, msg.sender, true);
    }

    /// @notice Replaces an auditor that missed its verdict deadline. It loses its fee and its
    ///         bond is released. With no other verifier available the job becomes unaudited,
    ///         and a fresh challenge window starts.
    /// @param jobId The job.
    function replaceVerifier(uint256 jobId) external {
        Job storage job = _requireStatus(jobId, JobStatus.Audited);
        if (block.timestamp <= job.deadline) revert JobMarketDeadlineNotReached(jobId, job.deadline);
        address[] storage verifiers = _jobVerifiers[jobId];
        address previous = verifiers[0];
        uint256 bond = _collateral(job.payment);
        address replacement = _drawVerifier(job.worker, verifiers, _freshSeed(jobId), bond);
        _unlockVerifier(previous, bond);
        if (replacement == address(0)) {
            verifiers.pop();
            job.status = JobStatus.Unaudited;
            job.deadline = uint32(block.timestamp) + _params.challengeWindow;
            emit AuditUnavailable(jobId);
        } else {
            verifiers[0] = replacement;
            verifiers.pop();
            job.deadline = uint32(block.timestamp) + _params.verdictWindow;
            emit VerifierReplaced(jobId, previous, replacement);
            emit AuditAssigned(jobId, replacement, job.deadline);
        }
    }

    /// @notice Settles a dispute once its voting deadline has passed, counting the votes cast.
    ///         Disputes settle by themselves when the last panel member votes.
    /// @param jobId The job.
    function settleDispute(uint256 jobId) external nonReentrant {
        Job storage job = _requireStatus(jobId, JobStatus.Disputed);
        if (block.timestamp <= job.deadline) revert JobMarketDeadlineNotReached(jobId, job.deadline);
        _settleDispute(jobId, job);
    }

    // ---------------------------------------------------------------- getters

    /// @notice A job's record; all fields are zero for an unknown id.
    function getJob(uint256 jobId) external view returns (Job memory) {
        return _jobs[jobId];
    }

    /// @notice The verifiers on a job: the auditor, or the accuser followed by the panel.
    function jobVerifiers(uint256 jobId) external view returns (address[] memory) {
        return _jobVerifiers[jobId];
    }

    /// @notice A verifier's vote on a job.
    function voteOf(uint256 jobId, address verifier) external view returns (Vote) {
        return _votes[jobId][verifier];
    }

    /// @notice Credits `account` can withdraw.
    function balanceOf(address account) external view returns (uint256) {
        return _balances[account];
    }

    /// @notice The protocol parameters.
    function params() external view returns (Params memory) {
        return _params;
    }

    /// @notice The staking contract.
    function staking() external view returns (IStaking) {
        return _staking;
    }

    /// @notice Collateral a worker or verifier locks for a job of this payment.
    function collateralFor(uint64 payment) external view returns (uint64) {
        return _collateral(payment);
    }

    /// @notice The audit premium escrowed on top of the payment for a raised audit rate.
    function premiumFor(uint64 payment, uint16 auditBps) external view returns (uint256) {
        return _premium(payment, auditBps);
    }

    // -------------------------------------------------------------- internals

    /// @dev Resolves a committed job's audit draw. Returns the job's new status (still
    ///      `Committed` if the seed was re-armed).
    function _drawAudit(uint256 jobId, Job storage job) internal returns (JobStatus) {
        bytes32 seed = blockhash(job.seedBlock);
        if (seed == bytes32(0)) {
            uint32 seedBlock = uint32(block.number + 1);
            job.seedBlock = seedBlock;
            emit AuditSeedRearmed(jobId, seedBlock);
            return JobStatus.Committed;
        }
        uint256 roll = uint256(keccak256(abi.encode(seed, jobId))) % BPS;
        if (roll >= job.auditBps) {
            job.status = JobStatus.Unaudited;
            emit AuditNotSelected(jobId);
            return JobStatus.Unaudited;
        }
        address[] storage verifiers = _jobVerifiers[jobId];
        bytes32 verifierSeed = keccak256(abi.encode(seed, jobId, "verifier"));
        address verifier = _drawVerifier(job.worker, verifiers, verifierSeed, _collateral(job.payment));
        if (verifier == address(0)) {
            job.status = JobStatus.Unaudited;
            emit AuditUnavailable(jobId);
            return JobStatus.Unaudited;
        }
        uint32 deadline = uint32(block.timestamp) + _params.verdictWindow;
        job.status = JobStatus.Audited;
        job.deadline = deadline;
        emit AuditAssigned(jobId, verifier, deadline);
        return JobStatus.Audited;
    }

    /// @dev Draws a panel of up to `panelSize` more verifiers and opens the dispute.
    function _openDispute(uint256 jobId, Job storage job, address accuser, bool isChallenge) private {
        address[] storage verifiers = _jobVerifiers[jobId];
        uint256 bond = _collateral(job.payment);
        bytes32 seed = _freshSeed(jobId);
        uint256 panelSize = _params.panelSize;
        address[] memory panel = new address[](panelSize);
        uint256 drawn;
        for (; drawn < panelSize; ++drawn) {
            address member = _drawVerifier(job.worker, verifiers, keccak256(abi.encode(seed, drawn)), bond);
            if (member == address(0)) break;
            panel[drawn] = member;
        }
        // Trim the panel to the members actually drawn.
        assembly ("memory-safe") {
            mstore(panel, drawn)
        }
        uint32 deadline = uint32(block.timestamp) + _params.verdictWindow;
        job.status = JobStatus.Disputed;
        job.deadline = deadline;
        emit DisputeOpened(jobId, accuser, isChallenge, panel, deadline);
    }

    /// @dev Decides a dispute by majority of the votes cast (a tie goes to the worker), slashes
    ///      the losing side's locked collateral and credits everyone.
    function _settleDispute(uint256 jobId, Job storage job) private {
        (uint256 acceptVotes, uint256 rejectVotes) = _countVotes(jobId);
        bool workerWon = acceptVotes >= rejectVotes;
        emit DisputeSettled(jobId, workerWon, acceptVotes, rejectVotes);

        uint256 bond = _collateral(job.payment);
        (address[] memory winners, uint256 pool) = _settleBonds(jobId, workerWon ? Vote.Accept : Vote.Reject, bond);
        if (workerWon) {
            _staking.unlock(job.worker, IStaking.Role.Worker, bond);
            _payAudited(jobId, job, winners);
            _distributeSlash(jobId, pool, job.worker, winners);
        } else {
            pool += _slash(jobId, job.worker, IStaking.Role.Worker, bond);
            job.status = JobStatus.Rejected;
            emit JobRejected(jobId, job.worker, job.requester);
            _creditBalance(job.requester, jobId, job.payment + _premium(job.payment, job.auditBps), CreditReason.Refund);
            _distributeSlash(jobId, pool, job.requester, winners);
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
                pool += _slash(jobId, verifier, IStaking.Role.Verifier, bond);
            }
        }
        // Trim `winners` to the entries written.
        assembly ("memory-safe") {
            mstore(winners, winnerCount)
        }
    }

    /// @dev Pays an unaudited job: the worker gets the payment minus the protocol fee, and an
    ///      unused audit premium goes back to the requester. Collateral is unlocked by the caller.
    function _payUnaudited(uint256 jobId, Job storage job) internal {
        uint256 payment = job.payment;
        uint256 protocolFee = payment * _params.protocolFeeBps / BPS;
        job.status = JobStatus.Finalized;
        emit JobFinalized(jobId, job.worker, payment - protocolFee);
        _creditBalance(job.worker, jobId, payment - protocolFee, CreditReason.WorkerPayment);
        _creditBalance(_params.treasury, jobId, protocolFee, CreditReason.ProtocolFee);
        uint256 premium = _premium(job.payment, job.auditBps);
        if (premium != 0) _creditBalance(job.requester, jobId, premium, CreditReason.Refund);
    }

    /// @dev Pays an audited job the worker won: the verifier fee is split among `verifiers`
    ///      (who were right), paid from the premium if the requester paid one, else from the
    ///      payment. The caller unlocks the worker's collateral (or did already).
    function _payAudited(uint256 jobId, Job storage job, address[] memory verifiers) private {
        uint256 payment = job.payment;
        uint256 protocolFee = payment * _params.protocolFeeBps / BPS;
        uint256 fee = payment * _params.verifierFeeBps / BPS;
        bool premiumPaid = _premium(job.payment, job.auditBps) != 0;
        uint256 workerPayment = premiumPaid ? payment - protocolFee : payment - protocolFee - fee;
        if (job.status == JobStatus.Audited) {
            _staking.unlock(job.worker, IStaking.Role.Worker, _collateral(job.payment));
        }
        job.status = JobStatus.Finalized;
        emit JobFinalized(jobId, job.worker, workerPayment);
        _creditBalance(job.worker, jobId, workerPayment, CreditReason.WorkerPayment);
        _creditBalance(_params.treasury, jobId, protocolFee, CreditReason.ProtocolFee);
        _splitCredit(jobId, fee, verifiers, CreditReason.VerifierFee);
    }

    /// @dev Splits a slash: `slashCheatedBps` to the cheated party, `slashVerifiersBps` among
    ///      the verifiers who were right (the treasury's if there are none), the rest to the
    ///      treasury.
    function _distributeSlash(uint256 jobId, uint256 pool, address cheated, address[] memory winners) internal {
        if (pool == 0) return;
        uint256 cheatedShare = pool * _params.slashCheatedBps / BPS;
        uint256 verifierShare = winners.length == 0 ? 0 : pool * _params.slashVerifiersBps / BPS;
        _creditBalance(cheated, jobId, cheatedShare, CreditReason.SlashShare);
        uint256 paid = _splitCredit(jobId, verifierShare, winners, CreditReason.SlashShare);
        _creditBalance(_params.treasury, jobId, pool - cheatedShare - paid, CreditReason.SlashShare);
    }

    /// @dev Credits an equal share of `amount` to each account and returns the total credited.
    ///      A fee's rounding remainder goes to the treasury; a slash's is left to the caller.
    function _splitCredit(uint256 jobId, uint256 amount, address[] memory accounts, CreditReason reason)
        private
        returns (uint256 paid)
    {
        uint256 count = accounts.length;
        if (count == 0 || amount == 0) return 0;
        uint256 each = amount / count;
        for (uint256 i; i < count; ++i) {
            _creditBalance(accounts[i], jobId, each, reason);
        }
        paid = each * count;
        // A remainder of the fee split stays with the treasury.
        if (reason == CreditReason.VerifierFee && paid != amount) {
            _creditBalance(_params.treasury, jobId, amount - paid, CreditReason.ProtocolFee);
            paid = amount;
        }
    }

    /// @dev Slashes locked collateral and records it; returns the amount.
    function _slash(uint256 jobId, address account, IStaking.Role role, uint256 amount) internal returns (uint256) {
        _staking.slash(account, role, amount);
        emit PartySlashed(jobId, account, role, amount);
        return amount;
    }

    function _creditBalance(address account, uint256 jobId, uint256 amount, CreditReason reason) internal {
        if (amount == 0) return;
        _balances[account] += amount;
        emit Credited(account, jobId, amount, reason);
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
            if (_staking.freeStake(candidate, IStaking.Role.Verifier) < bond) continue;
            _staking.lock(candidate, IStaking.Role.Verifier, bond);
            verifiers.push(candidate);
            return candidate;
        }
        return address(0);
    }

    function _unlockVerifier(address verifier, uint256 bond) private {
        _staking.unlock(verifier, IStaking.Role.Verifier, bond);
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

    function _requireStatus(uint256 jobId, JobStatus expected) internal view returns (Job storage job) {
        job = _jobs[jobId];
        if (job.status != expected) revert JobMarketInvalidStatus(jobId, job.status);
    }

    function _collateral(uint64 payment) internal view returns (uint64) {
        return SafeCast.toUint64(uint256(payment) * _params.collateralBps / BPS);
    }

    /// @dev The premium a requester pays for an audit rate above the base: the verifier fee.
    function _premium(uint64 payment, uint16 auditBps) internal view returns (uint256) {
        return auditBps > _params.baseAuditBps ? uint256(payment) * _params.verifierFeeBps / BPS : 0;
    }
}
