// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ICollateralKeeper} from "./interfaces/ICollateralKeeper.sol";
import {IJobMarket} from "./interfaces/IJobMarket.sol";
import {IStaking} from "./interfaces/IStaking.sol";

/// @title JobAudits
/// @notice The verification half of the job market: the audit draw over a batch's jobs,
///         verifier verdicts, challenges, disputes settled by majority, slashing, and the
///         per-job payout rules. It owns the storage that `JobMarket` builds on.
/// @dev Randomness. The audit draw uses `blockhash(seedBlock)`, where `seedBlock` is the block
///      after the commit, so the worker cannot know it when committing and nobody can choose
///      when it is taken. `blockhash` reaches back 256 blocks; a seed out of reach is re-armed
///      to the next block rather than read as "not audited". Panels and replacements mix the
///      previous block hash with `prevrandao`.
///      Collateral. The market keeps what it has locked of each stake (`lockedOf`), in the
///      slot that holds the account's id and balance: taking work already reads that slot and
///      paying it already writes it, so a lock or unlock is no extra call and no extra slot.
///      `Staking` holds the stakes, and asks `lockedOf` before a stake leaves.
abstract contract JobAudits is IJobMarket, ICollateralKeeper, ReentrancyGuardTransient {
    uint256 internal constant BPS = 10_000;
    /// @dev How many active verifiers a draw looks at before giving up.
    uint256 private constant MAX_PROBES = 8;
    /// @dev A job id is `batchId << INDEX_BITS | index`.
    uint256 internal constant INDEX_BITS = 16;

    IStaking internal immutable _staking;
    // The protocol parameters (see `Params`), fixed at deployment: immutables live in the code,
    // so reading one costs 3 gas where a cold storage slot costs 2,100.
    address internal immutable _treasury;
    uint16 internal immutable _protocolFeeBps;
    uint16 internal immutable _verifierFeeBps;
    uint32 internal immutable _collateralBps;
    uint16 internal immutable _baseAuditBps;
    uint16 internal immutable _slashCheatedBps;
    uint16 internal immutable _slashVerifiersBps;
    uint8 internal immutable _panelSize;
    uint32 internal immutable _challengeWindow;
    uint32 internal immutable _verdictWindow;
    uint32 internal immutable _maxInputBytes;
    uint16 internal immutable _maxBatchSize;

    /// @dev A batch as stored: one slot. The parties are account ids (`Account.id`), so that
    ///      creating a batch writes one fresh slot (22,100 gas) instead of two. `Batch` is the
    ///      same record with addresses, for `getBatch`.
    struct BatchSlot {
        uint32 requesterId;
        uint32 workerId;
        uint48 price;
        uint16 size;
        uint16 auditBps;
        BatchStatus status;
        bool reopenOnExpiry;
        uint32 deadline;
        uint32 seedBlock;
        uint24 timeout;
    }

    mapping(uint256 batchId => BatchSlot) internal _batches;
    /// @dev How many of a batch's jobs settle one by one (audited or challenged), so that
    ///      finalizing the batch pays only the others.
    mapping(uint256 batchId => uint256 count) internal _auditedJobs;
    mapping(uint256 jobId => Audit) private _audits;
    /// @dev The verifiers on a job: the assigned auditor, or in a dispute the accuser first,
    ///      then the panel.
    mapping(uint256 jobId => address[]) private _jobVerifiers;
    mapping(uint256 jobId => mapping(address verifier => Vote)) private _votes;
    /// @dev An account's compact id once it has been a requester or a worker (0 before), the
    ///      collateral locked from its worker stake, its internal balance, and the protocol fees
    ///      its batches' payouts owe the treasury, in one slot: a requester's batch reads and
    ///      debits one slot, and so does a worker's take, or its payout with the fee (no write
    ///      to the treasury's slot, 5,000 gas, per batch; `collectFees` moves the fees later).
    ///      A lock never exceeds the stake it is taken from, a uint64 in `Staking`.
    struct Account {
        uint32 id;
        uint64 workerLocked;
        uint96 balance;
        uint64 feesOwed;
    }

    mapping(address account => Account) internal _accounts;
    /// @dev Collateral locked from verifier stakes, plus one once the account has locked any:
    ///      audits are the rarer path, so their locks take a slot of their own and leave the
    ///      account slot room for the fees. The slot never returns to zero, so that each lock
    ///      rewrites it (5,000 gas) rather than creating it anew (22,100), as OpenZeppelin's
    ///      reentrancy guard keeps 1 and 2 rather than 0 and 1.
    mapping(address account => uint256 lockedPlusOne) private _verifierLocked;
    mapping(uint32 id => address account) internal _accountAt;
    uint32 private _accountCount;

    constructor(IStaking staking_, Params memory params_) {
        if (
            params_.treasury == address(0) || params_.protocolFeeBps + params_.verifierFeeBps > BPS
                || params_.slashCheatedBps + params_.slashVerifiersBps > BPS || params_.baseAuditBps > BPS
                || params_.challengeWindow == 0 || params_.verdictWindow == 0 || params_.maxBatchSize == 0
        ) revert JobMarketInvalidParams();
        address stakingMarket = staking_.jobMarket();
        if (stakingMarket != address(this)) revert JobMarketStakingMismatch(address(staking_), stakingMarket);
        _staking = staking_;
        _treasury = params_.treasury;
        _protocolFeeBps = params_.protocolFeeBps;
        _verifierFeeBps = params_.verifierFeeBps;
        _collateralBps = params_.collateralBps;
        _baseAuditBps = params_.baseAuditBps;
        _slashCheatedBps = params_.slashCheatedBps;
        _slashVerifiersBps = params_.slashVerifiersBps;
        _panelSize = params_.panelSize;
        _challengeWindow = params_.challengeWindow;
        _verdictWindow = params_.verdictWindow;
        _maxInputBytes = params_.maxInputBytes;
        _maxBatchSize = params_.maxBatchSize;
    }

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

    /// @notice A batch's record; all fields are zero for an unknown id. A batch finalized with
    ///         no job audited has left storage (its events keep its record): only its status,
    ///         Finalized, is reported.
    function getBatch(uint256 batchId) external view returns (Batch memory) {
        BatchSlot storage batch = _batches[batchId];
        if (batch.status == BatchStatus.None && _wasCreated(batchId)) {
            Batch memory finalized;
            finalized.status = BatchStatus.Finalized;
            return finalized;
        }
        return Batch({
            requester: _accountAt[batch.requesterId],
            price: batch.price,
            size: batch.size,
            auditBps: batch.auditBps,
            reopenOnExpiry: batch.reopenOnExpiry,
            worker: _accountAt[batch.workerId],
            deadline: batch.deadline,
            seedBlock: batch.seedBlock,
            status: batch.status,
            timeout: batch.timeout
        });
    }

    /// @notice An account's compact id, given on its first batch as requester or worker; 0 if
    ///         it has none yet.
    function accountId(address account) external view returns (uint256) {
        return _accounts[account].id;
    }

    /// @notice The account with a compact id (zero address for an unused id).
    function accountOf(uint256 id) external view returns (address) {
        return id > type(uint32).max ? address(0) : _accountAt[uint32(id)];
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

    /// @inheritdoc ICollateralKeeper
    function lockedOf(address account, IStaking.Role role) external view returns (uint256) {
        return role == IStaking.Role.Worker ? _accounts[account].workerLocked : _verifierLockOf(account);
    }

    /// @notice Credits `account` can withdraw.
    function balanceOf(address account) external view returns (uint256) {
        return _accounts[account].balance;
    }

    /// @notice Protocol fees `account`'s batch payouts owe the treasury, until `collectFees`.
    function feesOwed(address account) external view returns (uint256) {
        return _accounts[account].feesOwed;
    }

    /// @notice The protocol parameters.
    function params() external view returns (Params memory) {
        return Params({
            treasury: _treasury,
            protocolFeeBps: _protocolFeeBps,
            verifierFeeBps: _verifierFeeBps,
            collateralBps: _collateralBps,
            baseAuditBps: _baseAuditBps,
            slashCheatedBps: _slashCheatedBps,
            slashVerifiersBps: _slashVerifiersBps,
            panelSize: _panelSize,
            challengeWindow: _challengeWindow,
            verdictWindow: _verdictWindow,
            maxInputBytes: _maxInputBytes,
            maxBatchSize: _maxBatchSize
        });
    }

    /// @notice The staking contract.
    function staking() external view returns (IStaking) {
        return _staking;
    }

    /// @notice Collateral a worker or verifier locks per job of this price.
    function collateralFor(uint48 price) external view returns (uint256) {
        return _collateral(price);
    }

    /// @notice The audit premium per job escrowed on top of the price for a raised audit rate.
    function premiumFor(uint48 price, uint16 auditBps) external view returns (uint256) {
        return _premium(price, auditBps);
    }

    /// @notice The id of job `index` of batch `batchId`.
    function jobIdOf(uint256 batchId, uint256 index) external pure returns (uint256) {
        return (batchId << INDEX_BITS) | index;
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

    /// @dev The split of `jobs` unaudited jobs of a batch: the worker gets the price minus the
    ///      protocol fee, and an unused audit premium goes back to the requester.
    function _unauditedPayout(uint48 price, uint16 auditBps, uint256 jobs)
        internal
        view
        returns (uint256 workerPayment, uint256 protocolFee, uint256 premium)
    {
        protocolFee = jobs * (uint256(price) * _protocolFeeBps / BPS);
        workerPayment = jobs * price - protocolFee;
        premium = jobs * _premium(price, auditBps);
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

    /// @dev `account`'s compact id, given now if it has none.
    function _idOf(address account) internal returns (uint32 id) {
        Account storage record = _accounts[account];
        id = record.id;
        if (id == 0) {
            id = ++_accountCount; // Checked: reverts past 2^32 - 1 accounts.
            record.id = id;
            _accountAt[id] = account;
            emit AccountRegistered(account, id);
        }
    }

    function _workerOf(BatchSlot storage batch) internal view returns (address) {
        return _accountAt[batch.workerId];
    }

    function _requesterOf(BatchSlot storage batch) internal view returns (address) {
        return _accountAt[batch.requesterId];
    }

    /// @dev Locks `amount` of `account`'s stake in `role`, which must be active and have that
    ///      much free.
    function _lock(address account, IStaking.Role role, uint256 amount) internal {
        (bool done, uint256 staked, uint256 free) = _tryLock(account, role, amount);
        if (staked == 0) revert JobMarketNotRegistered(account, role);
        if (!done) revert JobMarketInsufficientFreeStake(account, role, amount, free);
    }

    /// @dev Locks `amount` of `account`'s stake in `role` if it is active (`staked` not 0) and has
    ///      that much free; returns whether it did, the stake, and what was free.
    function _tryLock(address account, IStaking.Role role, uint256 amount)
        private
        returns (bool done, uint256 staked, uint256 free)
    {
        staked = _staking.activeStake(account, role);
        if (staked == 0) return (false, 0, 0);
        bool worker = role == IStaking.Role.Worker;
        Account storage record = _accounts[account];
        uint256 locked = worker ? record.workerLocked : _verifierLockOf(account);
        // Cannot underflow: a lock never exceeds the stake, and a slash lowers both alike.
        unchecked {
            free = staked - locked;
        }
        if (amount > free) return (false, staked, free);
        // Fits: locked + amount <= staked, a uint64.
        if (worker) record.workerLocked = uint64(locked + amount);
        else _verifierLocked[account] = locked + amount + 1;
        return (true, staked, free);
    }

    /// @dev Releases `amount` of `account`'s locked collateral in `role` (checked: a release of
    ///      more than is locked would be a bug, and reverts).
    function _unlock(address account, IStaking.Role role, uint256 amount) internal {
        if (role == IStaking.Role.Worker) _accounts[account].workerLocked -= SafeCast.toUint64(amount);
        else _verifierLocked[account] = _verifierLockOf(account) - amount + 1; // Checked: a bug if negative.
    }

    function _verifierLockOf(address account) private view returns (uint256) {
        uint256 lockedPlusOne = _verifierLocked[account];
        return lockedPlusOne == 0 ? 0 : lockedPlusOne - 1;
    }

    /// @dev Settles a worker's batch payout in its account slot: releases `collateral`, credits
    ///      `payment`, and adds `fee` to what it owes the treasury. Fees the counter cannot
    ///      hold are credited to the treasury at once, the counter's with them.
    ///      The slot is read and written whole (see `_loadBatch`): `Account`'s fields from the
    ///      low-order bits are id (32), workerLocked (64), balance (96) and feesOwed (64).
    function _payWorker(address worker, uint256 collateral, uint256 payment, uint256 fee) internal {
        Account storage record = _accounts[worker];
        uint256 w;
        assembly ("memory-safe") {
            w := sload(record.slot)
        }
        uint256 locked = uint64(w >> 32) - collateral; // Checked: a release never exceeds the lock.
        uint256 balance = SafeCast.toUint96(uint96(w >> 96) + payment);
        uint256 owed = uint64(w >> 192) + fee;
        if (owed > type(uint64).max) {
            _addBalance(_treasury, owed);
            emit FeesCollected(worker, owed);
            owed = 0;
        }
        w = uint32(w) | locked << 32 | balance << 96 | owed << 192;
        assembly ("memory-safe") {
            sstore(record.slot, w)
        }
    }

    /// @dev Moves the fees `account` owes into the treasury's balance; returns the amount.
    function _collectFees(address account) internal returns (uint256 owed) {
        Account storage record = _accounts[account];
        owed = record.feesOwed;
        if (owed != 0) {
            record.feesOwed = 0;
            emit FeesCollected(account, owed);
        }
    }

    /// @dev Slashes locked collateral and records it; returns the amount.
    function _slash(uint256 batchId, address account, IStaking.Role role, uint256 amount) internal returns (uint256) {
        _unlock(account, role, amount);
        _staking.slash(account, role, amount);
        emit PartySlashed(batchId, account, role, amount);
        return amount;
    }

    function _creditBalance(address account, uint256 batchId, uint256 amount, CreditReason reason) internal {
        if (amount == 0) return;
        _addBalance(account, amount);
        emit Credited(account, batchId, amount, reason);
    }

    /// @dev Adds to an internal balance without a `Credited` event: for credits another event
    ///      records.
    function _addBalance(address account, uint256 amount) internal {
        if (amount != 0) _accounts[account].balance += SafeCast.toUint96(amount);
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

    function _requireBatch(uint256 batchId, BatchStatus expected) internal view returns (BatchSlot storage batch) {
        batch = _batches[batchId];
        if (batch.status != expected) revert JobMarketInvalidBatchStatus(batchId, _statusOf(batchId, batch.status));
    }

    /// @dev A batch's status as reported: a stored None is Finalized for a batch that left
    ///      storage on finalization.
    function _statusOf(uint256 batchId, BatchStatus stored) internal view returns (BatchStatus) {
        return stored == BatchStatus.None && _wasCreated(batchId) ? BatchStatus.Finalized : stored;
    }

    /// @dev Whether batch `batchId` was ever created.
    function _wasCreated(uint256 batchId) internal view virtual returns (bool);

    /// @dev Removes a batch's record from storage: 4,800 gas back to the caller.
    function _clearBatch(BatchSlot storage slot) internal {
        assembly ("memory-safe") {
            sstore(slot.slot, 0)
        }
    }

    /// @dev A batch's storage word, read whole: one SLOAD where reading field by field, the
    ///      compiler re-reads the word for each. Solc packs a struct's fields from the word's
    ///      low-order bits, in declaration order; `_storeBatch` is the inverse.
    function _loadBatch(BatchSlot storage slot) internal view returns (BatchSlot memory b) {
        uint256 w;
        assembly ("memory-safe") {
            w := sload(slot.slot)
        }
        b.requesterId = uint32(w);
        b.workerId = uint32(w >> 32);
        b.price = uint48(w >> 64);
        b.size = uint16(w >> 112);
        b.auditBps = uint16(w >> 128);
        b.status = BatchStatus(uint8(w >> 144));
        b.reopenOnExpiry = uint8(w >> 152) != 0;
        b.deadline = uint32(w >> 160);
        b.seedBlock = uint32(w >> 192);
        b.timeout = uint24(w >> 224);
    }

    /// @dev Writes a batch's storage word whole: one SSTORE where assigning field by field, the
    ///      compiler reads and writes the word once per field (200 gas each when warm).
    function _storeBatch(BatchSlot storage slot, BatchSlot memory b) internal {
        uint256 w = uint256(b.requesterId) | uint256(b.workerId) << 32 | uint256(b.price) << 64
            | uint256(b.size) << 112 | uint256(b.auditBps) << 128 | uint256(uint8(b.status)) << 144
            | (b.reopenOnExpiry ? uint256(1) << 152 : 0) | uint256(b.deadline) << 160 | uint256(b.seedBlock) << 192
            | uint256(b.timeout) << 224;
        assembly ("memory-safe") {
            sstore(slot.slot, w)
        }
    }

    function _collateral(uint48 price) internal view returns (uint256) {
        return uint256(price) * _collateralBps / BPS;
    }

    /// @dev The premium per job a requester pays for an audit rate above the base: the verifier fee.
    function _premium(uint48 price, uint16 auditBps) internal view returns (uint256) {
        return auditBps > _baseAuditBps ? uint256(price) * _verifierFeeBps / BPS : 0;
    }
}
