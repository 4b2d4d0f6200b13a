// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IJobMarket} from "./interfaces/IJobMarket.sol";
import {IModelRegistry} from "./interfaces/IModelRegistry.sol";
import {IStaking} from "./interfaces/IStaking.sol";
import {JobAudits} from "./JobAudits.sol";

/// @title JobMarket
/// @notice Escrow for inference jobs. Requesters escrow payments, staked workers take jobs on
///         and commit output hashes, a random draw after each commit picks jobs for audit, and
///         finalizing credits internal balances that `withdraw` pays out. The audit, dispute and
///         payout rules live in `JobAudits`.
contract JobMarket is JobAudits {
    using SafeERC20 for IERC20;

    IERC20 private immutable _creditToken;
    IModelRegistry private immutable _registry;

    uint256 private _nextJobId = 1;

    /// @param creditToken The credit token.
    /// @param modelRegistry The model registry.
    /// @param staking_ The staking contract; its owner must then call `setJobMarket`.
    /// @param params_ The protocol parameters.
    constructor(IERC20 creditToken, IModelRegistry modelRegistry, IStaking staking_, Params memory params_)
        JobAudits(staking_, params_)
    {
        _creditToken = creditToken;
        _registry = modelRegistry;
    }

    // ------------------------------------------------------------ requesters

    /// @notice Creates jobs and escrows their payments (plus any audit premium) in one
    ///         `transferFrom`. Job ids are consecutive.
    /// @param requests The jobs.
    /// @return firstJobId The id of the first job; the rest follow in order.
    function createJobs(JobRequest[] calldata requests) external nonReentrant returns (uint256 firstJobId) {
        uint256 count = requests.length;
        if (count == 0) revert JobMarketEmptyBatch();
        firstJobId = _nextJobId;
        uint256 total;
        for (uint256 i; i < count; ++i) {
            JobRequest calldata r = requests[i];
            uint16 auditBps = _checkRequest(i, r);
            uint256 jobId = firstJobId + i;
            _jobs[jobId] = Job({
                requester: msg.sender,
                payment: r.payment,
                timeout: r.timeout,
                worker: address(0),
                deadline: 0,
                seedBlock: 0,
                status: JobStatus.Open,
                reopenOnExpiry: r.reopenOnExpiry,
                auditBps: auditBps,
                modelId: r.modelId,
                outputHash: bytes32(0)
            });
            total += r.payment + _premium(r.payment, auditBps);
            emit JobCreated(
                jobId,
                msg.sender,
                r.modelId,
                r.inputHash,
                r.input,
                r.inputUri,
                r.payment,
                r.timeout,
                auditBps,
                r.reopenOnExpiry
            );
        }
        _nextJobId = firstJobId + count;

        _creditToken.safeTransferFrom(msg.sender, address(this), total);
    }

    /// @notice Cancels open jobs (not yet taken on) and refunds them to the caller's balance.
    /// @param jobIds The jobs; the caller must be their requester.
    function cancelJobs(uint256[] calldata jobIds) external {
        _requireNonEmpty(jobIds.length);
        for (uint256 i; i < jobIds.length; ++i) {
            uint256 jobId = jobIds[i];
            Job storage job = _requireStatus(jobId, JobStatus.Open);
            if (job.requester != msg.sender) revert JobMarketNotRequester(jobId, msg.sender);
            job.status = JobStatus.Cancelled;
            emit JobCancelled(jobId, msg.sender);
            _creditBalance(msg.sender, jobId, job.payment + _premium(job.payment, job.auditBps), CreditReason.Refund);
        }
    }

    // ---------------------------------------------------------------- workers

    /// @notice Takes open jobs on. Collateral for all of them is locked from the caller's
    ///         worker stake at once.
    /// @param jobIds The jobs.
    function takeJobs(uint256[] calldata jobIds) external {
        _requireNonEmpty(jobIds.length);
        if (!_staking.isActive(msg.sender, IStaking.Role.Worker)) {
            revert JobMarketNotRegistered(msg.sender, IStaking.Role.Worker);
        }
        uint256 totalCollateral;
        for (uint256 i; i < jobIds.length; ++i) {
            uint256 jobId = jobIds[i];
            Job storage job = _requireStatus(jobId, JobStatus.Open);
            uint32 deadline = uint32(block.timestamp) + job.timeout;
            uint64 collateral = _collateral(job.payment);
            job.worker = msg.sender;
            job.deadline = deadline;
            job.status = JobStatus.Taken;
            totalCollateral += collateral;
            emit JobTaken(jobId, msg.sender, deadline, collateral);
        }
        _staking.lock(msg.sender, IStaking.Role.Worker, totalCollateral);
    }

    /// @notice Commits output hashes for jobs the caller took on, before their deadlines. The
    ///         audit draw uses the hash of the next block, unknown to the caller now.
    /// @param jobIds The jobs.
    /// @param outputHashes keccak256 of each job's canonical output encoding.
    function commitResults(uint256[] calldata jobIds, bytes32[] calldata outputHashes) external {
        _requireNonEmpty(jobIds.length);
        if (outputHashes.length != jobIds.length) revert JobMarketLengthMismatch(jobIds.length, outputHashes.length);
        uint32 seedBlock = uint32(block.number + 1);
        uint32 challengeDeadline = uint32(block.timestamp) + _params.challengeWindow;
        for (uint256 i; i < jobIds.length; ++i) {
            uint256 jobId = jobIds[i];
            Job storage job = _requireStatus(jobId, JobStatus.Taken);
            if (job.worker != msg.sender) revert JobMarketNotWorker(jobId, msg.sender);
            if (block.timestamp > job.deadline) revert JobMarketDeadlinePassed(jobId, job.deadline);
            bytes32 outputHash = outputHashes[i];
            if (outputHash == bytes32(0)) revert JobMarketZeroOutputHash(jobId);
            job.outputHash = outputHash;
            job.seedBlock = seedBlock;
            job.deadline = challengeDeadline;
            job.status = JobStatus.Committed;
            emit ResultCommitted(jobId, msg.sender, outputHash, seedBlock, challengeDeadline);
        }
    }

    // ------------------------------------------------------- anyone, by time

    /// @notice Expires taken jobs whose worker missed the commit deadline. The worker's
    ///         collateral is slashed; each job is refunded or reopened, as its requester chose.
    /// @param jobIds The jobs.
    function expireJobs(uint256[] calldata jobIds) external nonReentrant {
        _requireNonEmpty(jobIds.length);
        for (uint256 i; i < jobIds.length; ++i) {
            uint256 jobId = jobIds[i];
            Job storage job = _requireStatus(jobId, JobStatus.Taken);
            if (block.timestamp <= job.deadline) revert JobMarketDeadlineNotReached(jobId, job.deadline);
            address worker = job.worker;
            bool reopen = job.reopenOnExpiry;
            if (reopen) {
                job.worker = address(0);
                job.deadline = 0;
                job.status = JobStatus.Open;
            } else {
                job.status = JobStatus.Expired;
            }
            emit JobTimedOut(jobId, worker, reopen);

            uint256 slashed = _slash(jobId, worker, IStaking.Role.Worker, _collateral(job.payment));
            _distributeSlash(jobId, slashed, job.requester, new address[](0));
            if (!reopen) {
                _creditBalance(job.requester, jobId, job.payment + _premium(job.payment, job.auditBps), CreditReason.Refund);
            }
        }
    }

    /// @notice Runs the audit draw for committed jobs whose seed block has been mined. Each job
    ///         is either assigned a random verifier or left unaudited (challengeable until its
    ///         window ends). A seed out of `blockhash` reach is re-armed, never skipped.
    /// @param jobIds The jobs.
    function drawAudits(uint256[] calldata jobIds) external {
        _requireNonEmpty(jobIds.length);
        for (uint256 i; i < jobIds.length; ++i) {
            uint256 jobId = jobIds[i];
            Job storage job = _requireStatus(jobId, JobStatus.Committed);
            if (block.number <= job.seedBlock) revert JobMarketSeedPending(jobId, job.seedBlock);
            _drawAudit(jobId, job);
        }
    }

    /// @notice Finalizes jobs whose challenge window has ended: the worker is paid, minus the
    ///         protocol fee. A job whose audit draw is still pending is drawn first; if that
    ///         selects it for audit (or re-arms its seed), it is left for the audit.
    /// @param jobIds The jobs.
    function finalizeJobs(uint256[] calldata jobIds) external {
        _requireNonEmpty(jobIds.length);
        address pendingWorker;
        uint256 pendingUnlock;
        for (uint256 i; i < jobIds.length; ++i) {
            uint256 jobId = jobIds[i];
            Job storage job = _jobs[jobId];
            JobStatus status = job.status;
            if (status != JobStatus.Committed && status != JobStatus.Unaudited) {
                revert JobMarketInvalidStatus(jobId, status);
            }
            if (block.timestamp <= job.deadline) revert JobMarketDeadlineNotReached(jobId, job.deadline);
            if (status == JobStatus.Committed) {
                if (block.number <= job.seedBlock) revert JobMarketSeedPending(jobId, job.seedBlock);
                if (_drawAudit(jobId, job) != JobStatus.Unaudited) continue;
            }
            // Collateral unlocks are batched per run of jobs from the same worker.
            address worker = job.worker;
            if (worker != pendingWorker) {
                _unlockWorker(pendingWorker, pendingUnlock);
                pendingWorker = worker;
                pendingUnlock = 0;
            }
            pendingUnlock += _collateral(job.payment);
            _payUnaudited(jobId, job);
        }
        _unlockWorker(pendingWorker, pendingUnlock);
    }

    // ---------------------------------------------------------------- payouts

    /// @notice Pays out the caller's whole internal balance.
    function withdraw() external nonReentrant {
        uint256 amount = _balances[msg.sender];
        if (amount == 0) revert JobMarketNothingToWithdraw(msg.sender);
        _balances[msg.sender] = 0;
        emit Withdrawn(msg.sender, amount);

        _creditToken.safeTransfer(msg.sender, amount);
    }

    // ---------------------------------------------------------------- getters

    /// @notice The credit token.
    function credit() external view returns (IERC20) {
        return _creditToken;
    }

    /// @notice The model registry.
    function registry() external view returns (IModelRegistry) {
        return _registry;
    }

    /// @notice The id the next created job will get.
    function nextJobId() external view returns (uint256) {
        return _nextJobId;
    }

    // ---------------------------------------------------------------- internals

    /// @dev Validates one request and returns its effective audit rate.
    function _checkRequest(uint256 index, JobRequest calldata r) private view returns (uint16 auditBps) {
        uint64 minPrice = _registry.activeMinPrice(r.modelId);
        if (r.payment < minPrice || r.payment == 0) revert JobMarketPriceTooLow(index, r.modelId, r.payment, minPrice);
        uint256 inputLength = r.input.length;
        if ((inputLength == 0) == (bytes(r.inputUri).length == 0)) revert JobMarketInvalidInput(index);
        if (inputLength > _params.maxInputBytes) {
            revert JobMarketInputTooLarge(index, inputLength, _params.maxInputBytes);
        }
        if (inputLength != 0) {
            bytes32 actual = keccak256(r.input);
            if (actual != r.inputHash) revert JobMarketInputHashMismatch(index, r.inputHash, actual);
        }
        if (r.timeout == 0) revert JobMarketInvalidTimeout(index, r.timeout);
        auditBps = r.auditBps == 0 ? _params.baseAuditBps : r.auditBps;
        if (auditBps < _params.baseAuditBps || auditBps > BPS) {
            revert JobMarketInvalidAuditRate(index, r.auditBps, _params.baseAuditBps);
        }
    }

    function _unlockWorker(address worker, uint256 amount) private {
        if (amount != 0) _staking.unlock(worker, IStaking.Role.Worker, amount);
    }

    function _requireNonEmpty(uint256 length) private pure {
        if (length == 0) revert JobMarketEmptyBatch();
    }
}
