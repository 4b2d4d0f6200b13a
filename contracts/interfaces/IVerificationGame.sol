// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IVerificationGame
/// @notice The verification half of the protocol: audits drawn at random over committed jobs,
///         verdicts, challenges, and disputes decided by a panel of verifiers drawn by stake.
///         Every draw (auditor, replacement, panel seat) is made from the hash of a block mined
///         after the draw was requested, over the verifier pool as it stood before that block.
///         The game holds verifier bonds and decides; the job market holds all credits and
///         moves them when the game tells it to.
interface IVerificationGame {
    /// @notice An audited or challenged job's verification.
    /// @dev Drawing -> Assigned (an auditor was drawn) -> Accepted, or -> Disputed on a reject.
    ///      A challenge moves an unaudited or accepted job to Disputed. Disputed -> Upheld (the
    ///      worker won) or Overturned (the worker lost, and its batch is forfeited). An audit of
    ///      a batch forfeited meanwhile ends Moot; one no verifier could be drawn for ends Lapsed.
    enum AuditStatus {
        None,
        Drawing,
        Assigned,
        Accepted,
        Disputed,
        Upheld,
        Overturned,
        Moot,
        Lapsed
    }

    /// @notice A verifier's vote on a disputed job.
    enum Vote {
        None,
        Accept,
        Reject
    }

    /// @notice One audited or challenged job, as `getAudit` returns it.
    /// @param status The verification status.
    /// @param round Disputes: the panel round (a round without quorum replaces absent panelists).
    /// @param deadline The verdict or vote deadline; while Drawing, the lapse deadline. Unix seconds.
    /// @param seedBlock The block whose hash the pending draw uses (0 when none is pending).
    /// @param auditor The assigned auditor (zero while none is).
    /// @param accuser Who opened the dispute (zero if none).
    /// @param panel The dispute's panel seats (zero for a seat not filled yet).
    struct AuditView {
        AuditStatus status;
        uint8 round;
        uint40 deadline;
        uint40 seedBlock;
        address auditor;
        address accuser;
        address[] panel;
    }

    // ---------------------------------------------------------------- errors

    /// @notice The market named at deployment does not name this game.
    error GameMarketMismatch(address market, address marketGame);
    /// @notice Only the job market may call this.
    error GameOnlyMarket(address caller);
    /// @notice A call with no job ids.
    error GameEmptyInput();
    /// @notice Parallel arrays of different lengths.
    error GameLengthMismatch(uint256 expected, uint256 actual);
    /// @notice The job's audit is not in a status that allows the call.
    error GameInvalidAuditStatus(uint256 jobId, AuditStatus status);
    /// @notice The job cannot be challenged now: its batch is not committed, or the window ended.
    error GameNotChallengeable(uint256 jobId);
    /// @notice The caller is neither the job's auditor nor one of its panelists.
    error GameNotAssigned(uint256 jobId, address caller);
    /// @notice The verifier already voted on the job.
    error GameAlreadyVoted(uint256 jobId, address verifier);
    /// @notice The caller is a party to the job (its worker or requester) or already on it.
    error GameConflictOfInterest(uint256 jobId, address account);
    /// @notice The caller is not an active verifier.
    error GameNotVerifier(address account);
    /// @notice Not enough of the verifier's stake is free to bond `required`.
    error GameInsufficientFreeStake(address account, uint256 required, uint256 available);
    /// @notice The deadline has passed.
    error GameDeadlinePassed(uint256 jobId, uint256 deadline);
    /// @notice The deadline has not passed yet.
    error GameDeadlineNotReached(uint256 jobId, uint256 deadline);
    /// @notice The block whose hash the draw uses has not been mined yet.
    error GameSeedPending(uint256 jobId, uint256 seedBlock);
    /// @notice The job has no draw pending.
    error GameNothingToDraw(uint256 jobId);

    // ---------------------------------------------------------------- events

    /// @notice A batch's audit draw selected these jobs; each waits for its auditor's draw.
    event AuditsDrawn(uint256 indexed batchId, uint256[] jobIds);
    /// @notice A draw was requested for a job, from the hash of `seedBlock`.
    event DrawRequested(uint256 indexed jobId, uint40 seedBlock);
    /// @notice A verifier was drawn to audit a job and bonded `bond`.
    event AuditAssigned(uint256 indexed jobId, address indexed verifier, uint40 deadline, uint256 bond);
    /// @notice No verifier could be drawn for a job before its lapse deadline: it is paid as unaudited.
    event AuditLapsed(uint256 indexed jobId);
    /// @notice A verifier missed its deadline and lost its bond; a replacement will be drawn.
    event VerifierAbsent(uint256 indexed jobId, address indexed verifier, uint256 penalty);
    /// @notice A verifier voted on a job (an auditor's verdict or a panelist's vote).
    event VerdictSubmitted(uint256 indexed jobId, address indexed verifier, bool accepted, bytes32 outputHash);
    /// @notice A reject or a challenge opened a dispute; its panel will be drawn from a later block.
    event DisputeOpened(uint256 indexed jobId, address indexed accuser, bool challenge, uint256 bond);
    /// @notice A panelist was drawn for a dispute and bonded `bond`.
    event PanelistDrawn(uint256 indexed jobId, address indexed verifier, uint256 seat, uint40 deadline, uint256 bond);
    /// @notice A dispute was decided by its panel.
    event DisputeSettled(uint256 indexed jobId, bool workerWon, uint256 acceptVotes, uint256 rejectVotes);
    /// @notice An audit of a batch that was forfeited meanwhile ended; its bonds were released.
    event AuditMooted(uint256 indexed jobId);

    // ---------------------------------------------------------------- verifiers

    /// @notice Draws what is pending for each job whose seed block has been mined: its auditor,
    ///         or its dispute's empty panel seats. Anyone may call it; verifier nodes do.
    function drawVerifiers(uint256[] calldata jobIds) external;

    /// @notice The auditor's verdict (a reject opens a dispute and bonds the accusation) or a
    ///         panelist's vote. A verdict on an audit whose batch another dispute forfeited is
    ///         skipped: it changes nothing and emits nothing.
    function submitVerdict(uint256 jobId, bool accept, bytes32 outputHash) external;

    /// @notice Several verdicts or votes in one transaction, in order.
    function submitVerdicts(uint256[] calldata jobIds, bool[] calldata accepts, bytes32[] calldata outputHashes)
        external;

    /// @notice Challenges a job of a committed batch while its challenge window is open: an
    ///         unaudited job, or an accepted one. The caller bonds the accusation.
    function challenge(uint256 jobId, bytes32 outputHash) external;

    /// @notice For each job, after its deadline: slashes an absent auditor or absent panelists
    ///         and requests their replacement; settles a dispute whose last round ended; lapses
    ///         an audit no verifier could be drawn for; frees the bond of an accept that stood
    ///         its challenge window; ends an audit whose batch was forfeited.
    function resolveTimeouts(uint256[] calldata jobIds) external;

    // ---------------------------------------------------------------- market

    /// @notice Called by the market when a batch's draw selected jobs for audit.
    function openAudits(uint256 batchId, uint256[] calldata jobIds, bytes32 seed) external;

    // ---------------------------------------------------------------- getters

    /// @notice A job's verification record.
    function getAudit(uint256 jobId) external view returns (AuditView memory);

    /// @notice A verifier's vote on a job.
    function voteOf(uint256 jobId, address verifier) external view returns (Vote);

    /// @notice Jobs of a batch whose audit or dispute is still open, and the time until which
    ///         its jobs may still be challenged (the market finalizes the batch after both).
    function batchAudits(uint256 batchId) external view returns (uint256 open, uint40 challengeableUntil);

    /// @notice Credits of a verifier's stake bonded behind open audits and disputes.
    function bondedOf(address verifier) external view returns (uint256);

    /// @notice The job market.
    function market() external view returns (address);
}
