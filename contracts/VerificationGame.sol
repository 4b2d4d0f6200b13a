// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IJobMarket} from "./interfaces/IJobMarket.sol";
import {IStaking} from "./interfaces/IStaking.sol";
import {IVerificationGame} from "./interfaces/IVerificationGame.sol";
import {AuditDraw} from "./libraries/AuditDraw.sol";

/// @title VerificationGame
/// @notice Audits, verdicts, challenges and disputes over committed jobs.
/// @dev The rules, and why (docs/economics.md derives the numbers):
///      - Draws. Every verifier seat (auditor, replacement, panelist) is drawn by stake from the
///        `Staking` pool as it stood before the block whose hash is the randomness, and that
///        block is mined after the draw was requested: no caller can see the outcome and revert,
///        and no stake added later takes part. The worker, the requester and anyone already on
///        the job are never drawn. A draw that finds no one is requested again from a later
///        block (it had no outcome to prefer); a seed out of `blockhash` reach falls back to a
///        value fixed by the request, never to a fresh draw.
///      - Bonds. An auditor bonds one job's collateral, and must have the whole batch's
///        collateral free, so that it can always afford to reject; an accuser (a rejecting
///        auditor or a challenger) bonds the batch's collateral, as much as the worker risks; a
///        panelist bonds one job's collateral. `JobMarket` caps a batch's collateral at half the
///        minimum verifier stake, so every job can be audited whatever its price.
///      - Disputes. Only the panel votes, and a side wins with a quorum, a majority of all
///        seats. Panelists absent at the deadline lose their bond and are replaced, for up to
///        `MAX_ROUNDS` rounds; a dispute with no quorum by then is void: nothing was proven, the
///        job is paid and every bond still held is released.
///      - Outcomes. A worker that loses forfeits its whole batch (`JobMarket.forfeitBatch`):
///        its pay and all its collateral. Losing voters, a false accuser, and an auditor whose
///        accept was overturned lose their bonds. Accepts stay open to challenge for a window.
contract VerificationGame is IVerificationGame, ReentrancyGuardTransient {
    /// @notice Panel rounds before a dispute with no quorum is void.
    uint256 public constant MAX_ROUNDS = 3;
    /// @notice Verdict windows a selected job may wait for an auditor before its audit lapses.
    uint256 public constant LAPSE_WINDOWS = 4;
    /// @dev Pool samples per seat in one draw.
    uint256 private constant MAX_PROBES = 16;

    /// @dev One job's verification, in one slot.
    struct AuditSlot {
        AuditStatus status;
        uint8 round;
        uint40 deadline;
        uint40 seedBlock;
        address auditor;
    }

    struct Dispute {
        address accuser;
        uint40 snapshotBlock;
    }

    /// @dev A batch's verification, in one slot: its open audits and disputes, until when its
    ///      jobs may be challenged (accepts extend it), and whether a cheat was proven.
    struct BatchAudits {
        uint16 open;
        uint40 challengeableUntil;
        bool forfeited;
    }

    IJobMarket private immutable _market;
    IStaking private immutable _staking;
    uint256 private immutable _panelSize;
    uint256 private immutable _quorum;
    uint256 private immutable _verdictWindow;
    uint256 private immutable _challengeWindow;

    mapping(uint256 jobId => AuditSlot) private _audits;
    /// @dev A dispute's accuser, and the block its panel's pool is taken at: the block that opened
    ///      it. Every seat of the dispute, in every round, is drawn from that pool, so no stake
    ///      added once the dispute was open takes part, however often a draw has to be retried.
    mapping(uint256 jobId => Dispute) private _disputes;
    mapping(uint256 jobId => address[]) private _panels;
    mapping(uint256 jobId => mapping(address verifier => Vote)) private _votes;
    /// @dev Everyone who has been on the job (auditor, accuser, panelist): never drawn for it again.
    mapping(uint256 jobId => mapping(address verifier => bool)) private _onJob;
    mapping(uint256 batchId => BatchAudits) private _batchAudits;
    /// @dev The batch's audit seed, kept so that its auditors can be drawn after `blockhash` forgets it.
    mapping(uint256 batchId => bytes32) private _seeds;
    mapping(address verifier => uint256) private _bonded;

    modifier onlyMarket() {
        if (msg.sender != address(_market)) revert GameOnlyMarket(msg.sender);
        _;
    }

    /// @param market_ The job market, deployed before this game with this game's address.
    constructor(IJobMarket market_) {
        address marketGame = market_.game();
        if (marketGame != address(this)) revert GameMarketMismatch(address(market_), marketGame);
        IJobMarket.Params memory p = market_.params();
        _market = market_;
        _staking = market_.staking();
        _panelSize = p.panelSize;
        _quorum = uint256(p.panelSize) / 2 + 1;
        _verdictWindow = p.verdictWindow;
        _challengeWindow = p.challengeWindow;
    }

    // ------------------------------------------------------------ verifiers

    /// @inheritdoc IVerificationGame
    function drawVerifiers(uint256[] calldata jobIds) external nonReentrant {
        if (jobIds.length == 0) revert GameEmptyInput();
        for (uint256 i; i < jobIds.length; ++i) {
            uint256 jobId = jobIds[i];
            AuditSlot storage audit = _audits[jobId];
            AuditStatus status = audit.status;
            bool pending = status == AuditStatus.Drawing || (status == AuditStatus.Disputed && audit.seedBlock != 0);
            if (!pending || _batchAudits[AuditDraw.batchOf(jobId)].forfeited) revert GameNothingToDraw(jobId);
            IJobMarket.Batch memory batch = _market.getBatch(AuditDraw.batchOf(jobId));
            if (status == AuditStatus.Drawing) _drawAuditor(jobId, audit, batch);
            else _drawPanel(jobId, audit, batch);
        }
    }

    /// @inheritdoc IVerificationGame
    function submitVerdict(uint256 jobId, bool accept, bytes32 outputHash) external nonReentrant {
        _submitVerdict(jobId, accept, outputHash);
    }

    /// @inheritdoc IVerificationGame
    function submitVerdicts(uint256[] calldata jobIds, bool[] calldata accepts, bytes32[] calldata outputHashes)
        external
        nonReentrant
    {
        uint256 count = jobIds.length;
        if (count == 0) revert GameEmptyInput();
        if (accepts.length != count) revert GameLengthMismatch(count, accepts.length);
        if (outputHashes.length != count) revert GameLengthMismatch(count, outputHashes.length);
        for (uint256 i; i < count; ++i) {
            _submitVerdict(jobIds[i], accepts[i], outputHashes[i]);
        }
    }

    /// @inheritdoc IVerificationGame
    function challenge(uint256 jobId, bytes32 outputHash) external nonReentrant {
        uint256 batchId = AuditDraw.batchOf(jobId);
        IJobMarket.Batch memory batch = _market.getBatch(batchId);
        BatchAudits storage books = _batchAudits[batchId];
        AuditSlot storage audit = _audits[jobId];
        bool drawn = batch.status == IJobMarket.BatchStatus.Drawn || batch.status == IJobMarket.BatchStatus.Audited;
        uint256 until = books.challengeableUntil > batch.deadline ? books.challengeableUntil : batch.deadline;
        if (!drawn || AuditDraw.indexOf(jobId) >= batch.size || block.timestamp > until || books.forfeited) {
            revert GameNotChallengeable(jobId);
        }
        if (audit.status != AuditStatus.None && audit.status != AuditStatus.Accepted) {
            revert GameInvalidAuditStatus(jobId, audit.status);
        }
        _requireDisinterested(jobId, msg.sender, batch);
        uint256 bond = batch.size * _market.collateralFor(batch.price);
        _requireBond(msg.sender, bond);
        if (batch.status == IJobMarket.BatchStatus.Drawn) _market.markAudited(batchId);
        ++books.open;
        emit VerdictSubmitted(jobId, msg.sender, false, outputHash);
        _openDispute(jobId, audit, msg.sender, true, bond);
    }

    /// @inheritdoc IVerificationGame
    function resolveTimeouts(uint256[] calldata jobIds) external nonReentrant {
        if (jobIds.length == 0) revert GameEmptyInput();
        for (uint256 i; i < jobIds.length; ++i) {
            _resolveTimeout(jobIds[i]);
        }
    }

    function _resolveTimeout(uint256 jobId) private {
        uint256 batchId = AuditDraw.batchOf(jobId);
        AuditSlot storage audit = _audits[jobId];
        AuditStatus status = audit.status;
        BatchAudits storage books = _batchAudits[batchId];
        IJobMarket.Batch memory batch = _market.getBatch(batchId);
        bool open = status == AuditStatus.Drawing || status == AuditStatus.Assigned || status == AuditStatus.Disputed;
        if (books.forfeited && (open || status == AuditStatus.Accepted)) {
            _moot(jobId, audit, batch, books, open);
            return;
        }
        if (status == AuditStatus.Accepted) {
            // The accept stood through its challenge window: the auditor's bond is free again.
            if (block.timestamp <= books.challengeableUntil) {
                revert GameDeadlineNotReached(jobId, books.challengeableUntil);
            }
            audit.status = AuditStatus.Upheld;
            _release(audit.auditor, _market.collateralFor(batch.price));
            return;
        }
        if (!open) revert GameInvalidAuditStatus(jobId, status);
        if (block.timestamp <= audit.deadline) revert GameDeadlineNotReached(jobId, audit.deadline);
        if (status == AuditStatus.Drawing) {
            audit.status = AuditStatus.Lapsed;
            --books.open;
            emit AuditLapsed(jobId);
        } else if (status == AuditStatus.Assigned) {
            address absent = audit.auditor;
            uint256 penalty = _penalize(batchId, absent, _market.collateralFor(batch.price));
            emit VerifierAbsent(jobId, absent, penalty);
            _market.distributeSlash(batchId, penalty, batch.worker, new address[](0));
            audit.auditor = address(0);
            audit.status = AuditStatus.Drawing;
            audit.deadline = uint40(block.timestamp + _verdictWindow * LAPSE_WINDOWS);
            _requestDraw(jobId, audit);
        } else {
            _penalizeAbsentPanelists(jobId, batch);
            if (audit.round + 1 < MAX_ROUNDS) {
                ++audit.round;
                audit.deadline = uint40(block.timestamp + _verdictWindow);
                _requestDraw(jobId, audit);
            } else {
                // No quorum in any round: nothing was proven either way.
                (uint256 accepts, uint256 rejects) = _tally(jobId);
                _settle(jobId, audit, batch, true, false, accepts, rejects);
            }
        }
    }

    // ---------------------------------------------------------------- market

    /// @inheritdoc IVerificationGame
    function openAudits(uint256 batchId, uint256[] calldata jobIds, bytes32 seed) external onlyMarket {
        _seeds[batchId] = seed;
        uint40 lapseAt = uint40(block.timestamp + _verdictWindow * LAPSE_WINDOWS);
        uint256 opened;
        for (uint256 i; i < jobIds.length; ++i) {
            AuditSlot storage audit = _audits[jobIds[i]];
            if (audit.status != AuditStatus.None) continue; // Challenged before the draw: disputed already.
            audit.status = AuditStatus.Drawing;
            audit.deadline = lapseAt;
            ++opened;
        }
        _batchAudits[batchId].open += uint16(opened); // At most the batch's size, a uint16.
        emit AuditsDrawn(batchId, jobIds);
    }

    // ---------------------------------------------------------------- getters

    /// @inheritdoc IVerificationGame
    function getAudit(uint256 jobId) external view returns (AuditView memory) {
        AuditSlot memory audit = _audits[jobId];
        return AuditView({
            status: audit.status,
            round: audit.round,
            deadline: audit.deadline,
            seedBlock: audit.seedBlock,
            auditor: audit.auditor,
            accuser: _disputes[jobId].accuser,
            panel: _panels[jobId]
        });
    }

    /// @inheritdoc IVerificationGame
    function voteOf(uint256 jobId, address verifier) external view returns (Vote) {
        return _votes[jobId][verifier];
    }

    /// @inheritdoc IVerificationGame
    function batchAudits(uint256 batchId) external view returns (uint256 open, uint40 challengeableUntil) {
        BatchAudits memory books = _batchAudits[batchId];
        return (books.open, books.challengeableUntil);
    }

    /// @notice Whether a cheat was proven in the batch (it was forfeited).
    function isForfeited(uint256 batchId) external view returns (bool) {
        return _batchAudits[batchId].forfeited;
    }

    /// @notice The batch's audit seed, once its draw selected jobs.
    function batchSeed(uint256 batchId) external view returns (bytes32) {
        return _seeds[batchId];
    }

    /// @inheritdoc IVerificationGame
    function bondedOf(address verifier) external view returns (uint256) {
        return _bonded[verifier];
    }

    /// @inheritdoc IVerificationGame
    function market() external view returns (address) {
        return address(_market);
    }

    /// @notice The number of seats on a dispute panel, and the votes one side needs to win.
    function panel() external view returns (uint256 size, uint256 quorum) {
        return (_panelSize, _quorum);
    }

    // -------------------------------------------------------------- verdicts

    function _submitVerdict(uint256 jobId, bool accept, bytes32 outputHash) private {
        AuditSlot storage audit = _audits[jobId];
        AuditStatus status = audit.status;
        uint256 batchId = AuditDraw.batchOf(jobId);
        // Another job's dispute forfeited the batch: this audit has nothing left to decide. Its
        // verdicts are skipped, not refused, because a panelist cannot know the forfeit is coming:
        // the other panel's deciding vote may be mined just before its own, in the same block.
        if (_batchAudits[batchId].forfeited) return;
        if (status != AuditStatus.Assigned && status != AuditStatus.Disputed) {
            revert GameInvalidAuditStatus(jobId, status);
        }
        if (block.timestamp > audit.deadline) revert GameDeadlinePassed(jobId, audit.deadline);
        IJobMarket.Batch memory batch = _market.getBatch(batchId);
        if (status == AuditStatus.Assigned) {
            if (msg.sender != audit.auditor) revert GameNotAssigned(jobId, msg.sender);
            emit VerdictSubmitted(jobId, msg.sender, accept, outputHash);
            if (accept) {
                audit.status = AuditStatus.Accepted;
                BatchAudits storage books = _batchAudits[batchId];
                --books.open;
                // The accept can be challenged, and its auditor slashed, for a window from now.
                uint40 until = uint40(block.timestamp + _challengeWindow);
                if (until > books.challengeableUntil) books.challengeableUntil = until;
                address[] memory auditor = new address[](1);
                auditor[0] = msg.sender;
                _market.payAuditFee(batchId, auditor);
            } else {
                // The reject is an accusation: the auditor's bond grows to the batch's collateral.
                uint256 jobBond = _market.collateralFor(batch.price);
                uint256 bond = batch.size * jobBond;
                _requireBond(msg.sender, bond - jobBond);
                _openDispute(jobId, audit, msg.sender, false, bond);
            }
            return;
        }
        if (!_isSeated(jobId, msg.sender)) revert GameNotAssigned(jobId, msg.sender);
        if (_votes[jobId][msg.sender] != Vote.None) revert GameAlreadyVoted(jobId, msg.sender);
        _votes[jobId][msg.sender] = accept ? Vote.Accept : Vote.Reject;
        emit VerdictSubmitted(jobId, msg.sender, accept, outputHash);
        (uint256 accepts, uint256 rejects) = _tally(jobId);
        if (accepts >= _quorum || rejects >= _quorum) {
            _settle(jobId, audit, batch, accepts >= _quorum, true, accepts, rejects);
        }
    }

    // -------------------------------------------------------------- disputes

    function _openDispute(uint256 jobId, AuditSlot storage audit, address accuser, bool isChallenge, uint256 bond)
        private
    {
        _disputes[jobId] = Dispute({accuser: accuser, snapshotBlock: uint40(block.number)});
        _onJob[jobId][accuser] = true;
        _panels[jobId] = new address[](_panelSize);
        audit.status = AuditStatus.Disputed;
        audit.round = 0;
        audit.deadline = uint40(block.timestamp + _verdictWindow);
        emit DisputeOpened(jobId, accuser, isChallenge, bond);
        _requestDraw(jobId, audit);
    }

    /// @dev At a round's deadline without quorum: absent panelists lose their bonds (to the
    ///      treasury and the worker, whose pay they delayed) and leave their seats empty.
    function _penalizeAbsentPanelists(uint256 jobId, IJobMarket.Batch memory batch) private {
        uint256 batchId = AuditDraw.batchOf(jobId);
        address[] storage seats = _panels[jobId];
        uint256 bond = _market.collateralFor(batch.price);
        uint256 penalties;
        for (uint256 s; s < seats.length; ++s) {
            address member = seats[s];
            if (member != address(0) && _votes[jobId][member] == Vote.None) {
                penalties += _penalize(batchId, member, bond);
                emit VerifierAbsent(jobId, member, bond);
                seats[s] = address(0);
            }
        }
        _market.distributeSlash(batchId, penalties, batch.worker, new address[](0));
    }

    /// @dev Settles a dispute. `decided`: a side reached the quorum. Then the losing voters lose
    ///      their bonds; so does a false accuser, or, when the worker lost, an auditor whose
    ///      accept was overturned; a worker that lost forfeits its batch; the winners share the
    ///      slashes (and the fee, if the worker won). Undecided, the accusation is void: the job
    ///      is paid and every bond still held is released.
    function _settle(
        uint256 jobId,
        AuditSlot storage audit,
        IJobMarket.Batch memory batch,
        bool workerWon,
        bool decided,
        uint256 accepts,
        uint256 rejects
    ) private {
        uint256 batchId = AuditDraw.batchOf(jobId);
        BatchAudits storage books = _batchAudits[batchId];
        --books.open;
        audit.status = workerWon ? AuditStatus.Upheld : AuditStatus.Overturned;
        audit.seedBlock = 0;
        emit DisputeSettled(jobId, workerWon, accepts, rejects);

        uint256 jobBond = _market.collateralFor(batch.price);
        Vote winning = workerWon ? Vote.Accept : Vote.Reject;
        address[] storage seats = _panels[jobId];
        address[] memory winners = new address[](seats.length + 1);
        uint256 count;
        uint256 pool;
        for (uint256 s; s < seats.length; ++s) {
            address member = seats[s];
            if (member == address(0)) continue;
            Vote vote = _votes[jobId][member];
            if (vote == winning && decided) winners[count++] = member;
            if (vote == Vote.None || vote == winning || !decided) _release(member, jobBond);
            else pool += _penalize(batchId, member, jobBond);
        }
        address accuser = _disputes[jobId].accuser;
        address auditor = audit.auditor;
        uint256 accusation = batch.size * jobBond;
        if (workerWon) {
            // A false accusation loses its bond; an undecided one is void.
            if (decided) pool += _penalize(batchId, accuser, accusation);
            else _release(accuser, accusation);
            // An auditor that accepted (and was then challenged) was right: its bond is free.
            if (auditor != address(0) && auditor != accuser) _release(auditor, jobBond);
        } else {
            _release(accuser, accusation);
            winners[count++] = accuser;
            if (auditor != address(0) && auditor != accuser) pool += _penalize(batchId, auditor, jobBond);
            books.forfeited = true;
            pool += _market.forfeitBatch(batchId);
        }
        // Trim `winners` to the entries written.
        assembly ("memory-safe") {
            mstore(winners, count)
        }
        if (workerWon && count != 0) _market.payAuditFee(batchId, winners);
        _market.distributeSlash(batchId, pool, workerWon ? batch.worker : batch.requester, winners);
    }

    /// @dev Ends an audit of a forfeited batch: the cheat is proven elsewhere, so every bond on
    ///      it is released.
    function _moot(
        uint256 jobId,
        AuditSlot storage audit,
        IJobMarket.Batch memory batch,
        BatchAudits storage books,
        bool open
    ) private {
        uint256 jobBond = _market.collateralFor(batch.price);
        if (audit.auditor != address(0)) {
            bool accused = _disputes[jobId].accuser == audit.auditor;
            if (!accused) _release(audit.auditor, jobBond);
        }
        if (audit.status == AuditStatus.Disputed) {
            _release(_disputes[jobId].accuser, batch.size * jobBond);
            address[] storage seats = _panels[jobId];
            for (uint256 s; s < seats.length; ++s) {
                if (seats[s] != address(0)) _release(seats[s], jobBond);
            }
        }
        if (open) --books.open;
        audit.status = AuditStatus.Moot;
        audit.seedBlock = 0;
        emit AuditMooted(jobId);
    }

    // ------------------------------------------------------------------ draws

    function _drawAuditor(uint256 jobId, AuditSlot storage audit, IJobMarket.Batch memory batch) private {
        uint256 jobBond = _market.collateralFor(batch.price);
        // Always over the pool as it stood at the commit: a retried draw, or a replacement's,
        // gets fresh randomness but never a pool with stake added since.
        uint256 snapshot = batch.seedBlock - 1;
        bytes32 seed = audit.seedBlock == 0 ? _seeds[AuditDraw.batchOf(jobId)] : _pendingSeed(jobId, audit.seedBlock);
        // Eligible only with the batch's whole collateral free, so that it can afford to reject.
        (address verifier,) = _draw(jobId, seed, snapshot, batch, batch.size * jobBond, 0);
        if (verifier == address(0)) {
            _requestDraw(jobId, audit);
            return;
        }
        _bonded[verifier] += jobBond;
        audit.auditor = verifier;
        audit.status = AuditStatus.Assigned;
        audit.seedBlock = 0;
        audit.deadline = uint40(block.timestamp + _verdictWindow);
        emit AuditAssigned(jobId, verifier, audit.deadline, jobBond);
    }

    function _drawPanel(uint256 jobId, AuditSlot storage audit, IJobMarket.Batch memory batch) private {
        bytes32 seed = _pendingSeed(jobId, audit.seedBlock);
        uint256 snapshot = _disputes[jobId].snapshotBlock;
        uint256 jobBond = _market.collateralFor(batch.price);
        address[] storage seats = _panels[jobId];
        uint40 deadline = uint40(block.timestamp + _verdictWindow);
        bool full = true;
        bool seated;
        uint256 nonce;
        for (uint256 s; s < seats.length; ++s) {
            if (seats[s] != address(0)) continue;
            address member;
            (member, nonce) = _draw(jobId, seed, snapshot, batch, jobBond, nonce);
            if (member == address(0)) {
                full = false;
                continue;
            }
            _bonded[member] += jobBond;
            seats[s] = member;
            seated = true;
            emit PanelistDrawn(jobId, member, s, deadline, jobBond);
        }
        // A new panelist gets a whole window to vote. A draw that seats no one leaves the
        // round's deadline alone: otherwise retrying draws from an exhausted pool, block after
        // block, would hold the dispute (and the worker's pay) open for ever.
        if (seated) audit.deadline = deadline;
        if (full) audit.seedBlock = 0;
        else _requestDraw(jobId, audit);
    }

    /// @dev Samples the pool until an eligible verifier turns up: active and valid at the
    ///      snapshot, not a party to the job or already on it, with `free` of its stake free.
    ///      Marks it as on the job. Returns zero if `MAX_PROBES` samples found no one.
    function _draw(
        uint256 jobId,
        bytes32 seed,
        uint256 snapshot,
        IJobMarket.Batch memory batch,
        uint256 free,
        uint256 nonce
    ) private returns (address, uint256) {
        for (uint256 end = nonce + MAX_PROBES; nonce < end; ++nonce) {
            uint256 randomness = uint256(keccak256(abi.encode(seed, jobId, nonce)));
            address candidate = _staking.sampleVerifier(snapshot, randomness);
            if (
                candidate == address(0) || candidate == batch.worker || candidate == batch.requester
                    || _onJob[jobId][candidate] || _freeStake(candidate) < free
            ) continue;
            _onJob[jobId][candidate] = true;
            return (candidate, nonce + 1);
        }
        return (address(0), nonce);
    }

    /// @dev A draw is requested from the hash of the next block, unknown to every caller now.
    function _requestDraw(uint256 jobId, AuditSlot storage audit) private {
        uint40 seedBlock = uint40(block.number + 1);
        audit.seedBlock = seedBlock;
        emit DrawRequested(jobId, seedBlock);
    }

    /// @dev The randomness of a requested draw. A seed out of `blockhash` reach is replaced by
    ///      one fixed by the request alone: waiting never buys a fresh draw.
    function _pendingSeed(uint256 jobId, uint256 seedBlock) private view returns (bytes32 seed) {
        if (block.number <= seedBlock) revert GameSeedPending(jobId, seedBlock);
        seed = blockhash(seedBlock);
        if (seed == bytes32(0)) seed = keccak256(abi.encode(jobId, seedBlock));
    }

    // ------------------------------------------------------------------ bonds

    function _requireDisinterested(uint256 jobId, address account, IJobMarket.Batch memory batch) private view {
        if (account == batch.worker || account == batch.requester || _onJob[jobId][account]) {
            revert GameConflictOfInterest(jobId, account);
        }
    }

    /// @dev Bonds `amount` of an active verifier's stake, or reverts.
    function _requireBond(address verifier, uint256 amount) private {
        if (_staking.activeStake(verifier, IStaking.Role.Verifier) == 0) revert GameNotVerifier(verifier);
        uint256 free = _freeStake(verifier);
        if (free < amount) revert GameInsufficientFreeStake(verifier, amount, free);
        _bonded[verifier] += amount;
    }

    function _freeStake(address verifier) private view returns (uint256) {
        uint256 staked = _staking.activeStake(verifier, IStaking.Role.Verifier);
        uint256 bonded = _bonded[verifier];
        return staked > bonded ? staked - bonded : 0;
    }

    function _release(address verifier, uint256 amount) private {
        _bonded[verifier] -= amount; // Checked: releasing more than was bonded would be a bug.
    }

    /// @dev Releases and slashes a verifier's bond; the market holds the slashed credits.
    function _penalize(uint256 batchId, address verifier, uint256 amount) private returns (uint256) {
        _release(verifier, amount);
        _market.slashVerifier(batchId, verifier, amount);
        return amount;
    }

    // ------------------------------------------------------------------ votes

    function _isSeated(uint256 jobId, address account) private view returns (bool) {
        address[] storage seats = _panels[jobId];
        for (uint256 s; s < seats.length; ++s) {
            if (seats[s] == account) return true;
        }
        return false;
    }

    function _tally(uint256 jobId) private view returns (uint256 accepts, uint256 rejects) {
        address[] storage seats = _panels[jobId];
        for (uint256 s; s < seats.length; ++s) {
            Vote vote = _votes[jobId][seats[s]];
            if (vote == Vote.Accept) ++accepts;
            else if (vote == Vote.Reject) ++rejects;
        }
    }
}
