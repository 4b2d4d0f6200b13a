// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IStaking
/// @notice Stakes of workers and verifiers, the collateral locked from them, and slashing.
interface IStaking {
    /// @notice The two staked roles. Each has its own minimum stake.
    enum Role {
        Worker,
        Verifier
    }

    /// @notice One account's stake in one role.
    /// @param amount Credits staked, locked part included.
    /// @param locked Credits that back open jobs, audits or disputes.
    /// @param unbondsAt When an exit was requested: the time the stake can be withdrawn; else 0.
    /// @param active Whether the account is registered and can take new work.
    struct Stake {
        uint64 amount;
        uint64 locked;
        uint40 unbondsAt;
        bool active;
    }

    /// @notice Only the job market may lock, unlock or slash.
    error StakingOnlyJobMarket(address caller);
    /// @notice The job market address given at deployment is zero.
    error StakingZeroAddress();
    /// @notice A stake of zero credits.
    error StakingZeroAmount();
    /// @notice The stake after this deposit would be below the role's minimum.
    error StakingBelowMinimum(address account, Role role, uint256 amount, uint256 minimum);
    /// @notice A worker registered without a result URL.
    error StakingEmptyUrl(address account);
    /// @notice The account has no stake in the role.
    error StakingNotStaked(address account, Role role);
    /// @notice The account is already leaving the role; it must withdraw before staking again.
    error StakingExitPending(address account, Role role, uint256 unbondsAt);
    /// @notice The account has not requested an exit from the role.
    error StakingExitNotRequested(address account, Role role);
    /// @notice The unbonding period has not passed.
    error StakingStillUnbonding(address account, Role role, uint256 unbondsAt);
    /// @notice Collateral is locked behind open jobs or disputes, so the stake cannot leave.
    error StakingStakeLocked(address account, Role role, uint256 locked);
    /// @notice Not enough free stake to lock `required`.
    error StakingInsufficientFreeStake(address account, Role role, uint256 required, uint256 available);
    /// @notice Unlocking or slashing more than is locked.
    error StakingExceedsLocked(address account, Role role, uint256 amount, uint256 locked);

    /// @notice Credits were staked.
    event Staked(address indexed account, Role indexed role, uint256 amount, uint256 total);
    /// @notice A worker's result URL was set.
    event WorkerUrlSet(address indexed worker, string url);
    /// @notice An account asked to leave a role.
    event ExitRequested(address indexed account, Role indexed role, uint256 unbondsAt);
    /// @notice A stake left after unbonding.
    event StakeWithdrawn(address indexed account, Role indexed role, uint256 amount);
    /// @notice Collateral was locked.
    event CollateralLocked(address indexed account, Role indexed role, uint256 amount);
    /// @notice Collateral was unlocked.
    event CollateralUnlocked(address indexed account, Role indexed role, uint256 amount);
    /// @notice Locked stake was slashed and sent to the job market for distribution.
    event StakeSlashed(address indexed account, Role indexed role, uint256 amount);
    /// @notice A slash left the stake below the role's minimum, so the account takes no new work.
    event Deregistered(address indexed account, Role indexed role);

    /// @notice The job market, the only contract that may lock, unlock and slash.
    function jobMarket() external view returns (address);

    /// @notice Whether `account` is registered and not leaving `role`.
    function isActive(address account, Role role) external view returns (bool);

    /// @notice Stake not backing any work: `amount - locked`.
    function freeStake(address account, Role role) external view returns (uint256);

    /// @notice The number of active verifiers.
    function activeVerifierCount() external view returns (uint256);

    /// @notice The active verifier at `index` (order changes as verifiers leave).
    function activeVerifierAt(uint256 index) external view returns (address);

    /// @notice Locks `amount` of `account`'s free stake. Only the job market.
    function lock(address account, Role role, uint256 amount) external;

    /// @notice Unlocks `amount` of `account`'s locked stake. Only the job market.
    function unlock(address account, Role role, uint256 amount) external;

    /// @notice Takes `amount` of `account`'s locked stake and sends it to the job market.
    function slash(address account, Role role, uint256 amount) external;
}
