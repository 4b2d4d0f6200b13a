// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ICollateralKeeper} from "./interfaces/ICollateralKeeper.sol";
import {IStaking} from "./interfaces/IStaking.sol";

/// @title Staking
/// @notice Workers and verifiers stake credits to register. The job market locks per-job
///         collateral against these stakes and slashes it when a party loses. Leaving takes two
///         steps, `requestExit` then `withdrawStake` after the unbonding period, and stake
///         that backs open work cannot leave.
/// @dev The job market is fixed at deployment, as an immutable: the deployer passes the
///      address the market will have (its CREATE address, from the deployer's next nonce but
///      one), and the market's constructor checks it. So Staking has no owner and no wiring
///      step, and a slash reads the market's address from the code, not from storage.
///      The locked collateral is the market's record, not Staking's: the market keeps it in
///      the slot that holds the account's balance, which it writes anyway when work is taken
///      or paid, so locking and unlocking cost no call here (about 13,000 gas less per job).
///      Staking asks the market (`ICollateralKeeper.lockedOf`) before a stake leaves.
contract Staking is IStaking, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    IERC20 private immutable _creditToken;
    uint64 private immutable _minWorkerStake;
    uint64 private immutable _minVerifierStake;
    uint40 private immutable _unbondingPeriod;
    address private immutable _jobMarket;
    /// @dev A stake as stored; `Stake` adds the collateral the market has locked.
    ///      `firstEntry`: a verifier's pool entries from this index on carry its weight; the
    ///      ones before are void (its stake fell since, or it left and came back).
    struct StakeSlot {
        uint64 amount;
        uint40 unbondsAt;
        bool active;
        uint64 firstEntry;
    }

    /// @dev One entry of the verifier draw pool. The pool only grows, so the pool as it stood at
    ///      any past block is a prefix of it: a draw over that prefix cannot be steered by
    ///      stakes added after its randomness was fixed, nor by exits reordering a list.
    ///      `cumulative` is the sum of the weights of this entry and all before it. The two
    ///      fields a draw searches share the first slot; the verifier is read once, at the end.
    struct PoolEntry {
        uint40 blockNumber;
        uint128 cumulative;
        address verifier;
    }

    mapping(address account => mapping(Role role => StakeSlot)) private _stakes;
    mapping(address worker => string url) private _workerUrls;
    PoolEntry[] private _pool;

    modifier onlyJobMarket() {
        if (msg.sender != _jobMarket) revert StakingOnlyJobMarket(msg.sender);
        _;
    }

    /// @param creditToken The credit token.
    /// @param jobMarket_ The job market, the only contract allowed to slash, which keeps the locks:
    ///        the address it will be deployed at.
    /// @param minWorkerStake The minimum stake to register as a worker.
    /// @param minVerifierStake The minimum stake to register as a verifier.
    /// @param unbondingPeriod Seconds between `requestExit` and `withdrawStake`.
    constructor(
        IERC20 creditToken,
        address jobMarket_,
        uint64 minWorkerStake,
        uint64 minVerifierStake,
        uint40 unbondingPeriod
    ) {
        if (jobMarket_ == address(0)) revert StakingZeroAddress();
        _creditToken = creditToken;
        _jobMarket = jobMarket_;
        _minWorkerStake = minWorkerStake;
        _minVerifierStake = minVerifierStake;
        _unbondingPeriod = unbondingPeriod;
    }

    /// @notice Stakes `amount` credits in `role` and (re)registers the caller. A worker gives
    ///         the URL of its result API; verifiers pass an empty string. Needs an allowance.
    /// @param role Worker or Verifier.
    /// @param amount Credits to add, in base units.
    /// @param url The worker's result API URL (kept if empty and already set).
    function stake(Role role, uint256 amount, string calldata url) external nonReentrant {
        if (amount == 0) revert StakingZeroAmount();
        StakeSlot storage s = _stakes[msg.sender][role];
        if (s.unbondsAt != 0) revert StakingExitPending(msg.sender, role, s.unbondsAt);
        uint256 total = s.amount + amount;
        uint256 minimum = _minimum(role);
        if (total < minimum) revert StakingBelowMinimum(msg.sender, role, total, minimum);
        if (role == Role.Worker) {
            if (bytes(url).length != 0) {
                _workerUrls[msg.sender] = url;
                emit WorkerUrlSet(msg.sender, url);
            } else if (bytes(_workerUrls[msg.sender]).length == 0) {
                revert StakingEmptyUrl(msg.sender);
            }
        }

        s.amount = total.toUint64();
        emit Staked(msg.sender, role, amount, total);
        if (!s.active) {
            s.active = true;
            // A verifier (re)joining enters the pool with its whole stake, its older entries void.
            if (role == Role.Verifier) _enterPool(msg.sender, s, total, true);
        } else if (role == Role.Verifier) {
            _enterPool(msg.sender, s, amount, false);
        }

        _creditToken.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice Changes the caller's registered result URL.
    /// @param url The new URL.
    function setWorkerUrl(string calldata url) external {
        if (bytes(url).length == 0) revert StakingEmptyUrl(msg.sender);
        if (_stakes[msg.sender][Role.Worker].amount == 0) revert StakingNotStaked(msg.sender, Role.Worker);
        _workerUrls[msg.sender] = url;
        emit WorkerUrlSet(msg.sender, url);
    }

    /// @notice Starts leaving `role`: the caller takes no new work from now on and can
    ///         withdraw after the unbonding period, once no collateral is locked.
    /// @param role Worker or Verifier.
    function requestExit(Role role) external {
        StakeSlot storage s = _stakes[msg.sender][role];
        if (s.amount == 0) revert StakingNotStaked(msg.sender, role);
        if (s.unbondsAt != 0) revert StakingExitPending(msg.sender, role, s.unbondsAt);
        uint40 unbondsAt = uint40(block.timestamp) + _unbondingPeriod;
        s.unbondsAt = unbondsAt;
        s.active = false;
        if (role == Role.Verifier) s.firstEntry = uint64(_pool.length);
        emit ExitRequested(msg.sender, role, unbondsAt);
    }

    /// @notice Withdraws the caller's whole stake in `role` after unbonding, if none is locked.
    /// @param role Worker or Verifier.
    function withdrawStake(Role role) external nonReentrant {
        StakeSlot storage s = _stakes[msg.sender][role];
        if (s.unbondsAt == 0) revert StakingExitNotRequested(msg.sender, role);
        if (block.timestamp < s.unbondsAt) revert StakingStillUnbonding(msg.sender, role, s.unbondsAt);
        uint256 locked = ICollateralKeeper(_jobMarket).lockedOf(msg.sender, role);
        if (locked != 0) revert StakingStakeLocked(msg.sender, role, locked);
        uint256 amount = s.amount;
        delete _stakes[msg.sender][role];
        emit StakeWithdrawn(msg.sender, role, amount);

        _creditToken.safeTransfer(msg.sender, amount);
    }

    /// @inheritdoc IStaking
    function slash(address account, Role role, uint256 amount) external onlyJobMarket nonReentrant {
        StakeSlot storage s = _stakes[account][role];
        if (amount > s.amount) revert StakingExceedsStake(account, role, amount, s.amount);
        // Cannot underflow: checked against s.amount just above.
        unchecked {
            s.amount -= uint64(amount);
        }
        emit StakeSlashed(account, role, amount);
        bool stays = s.amount >= _minimum(role);
        if (s.active && !stays) {
            s.active = false;
            emit Deregistered(account, role);
        }
        // The verifier's weight fell: its entries are void, and what is left enters afresh.
        if (role == Role.Verifier) _enterPool(account, s, s.amount, true);

        _creditToken.safeTransfer(msg.sender, amount);
    }

    /// @notice The credit token.
    function credit() external view returns (IERC20) {
        return _creditToken;
    }

    /// @inheritdoc IStaking
    function jobMarket() external view returns (address) {
        return _jobMarket;
    }

    /// @inheritdoc IStaking
    function minStake(Role role) external view returns (uint256) {
        return _minimum(role);
    }

    /// @notice Seconds between requesting an exit and withdrawing.
    function unbondingPeriod() external view returns (uint256) {
        return _unbondingPeriod;
    }

    /// @notice `account`'s stake record in `role`, with the collateral the market has locked.
    function getStake(address account, Role role) external view returns (Stake memory) {
        StakeSlot storage s = _stakes[account][role];
        uint256 locked = ICollateralKeeper(_jobMarket).lockedOf(account, role);
        // At most the amount staked, a uint64: the market locks no more than that.
        return Stake({amount: s.amount, locked: uint64(locked), unbondsAt: s.unbondsAt, active: s.active});
    }

    /// @notice The result API URL a worker registered.
    function workerUrl(address worker) external view returns (string memory) {
        return _workerUrls[worker];
    }

    /// @inheritdoc IStaking
    function isActive(address account, Role role) external view returns (bool) {
        return _stakes[account][role].active;
    }

    /// @inheritdoc IStaking
    function activeStake(address account, Role role) external view returns (uint256) {
        StakeSlot storage s = _stakes[account][role];
        return s.active ? s.amount : 0;
    }

    /// @inheritdoc IStaking
    function sampleVerifier(uint256 snapshotBlock, uint256 randomness) external view returns (address) {
        uint256 count = _entriesUpTo(snapshotBlock);
        if (count == 0) return address(0);
        uint256 target = randomness % _pool[count - 1].cumulative;
        // The first entry whose cumulative weight exceeds the target: entry i is hit with
        // probability weight(i) / total.
        uint256 low;
        uint256 high = count - 1;
        while (low < high) {
            uint256 mid = (low + high) / 2;
            if (_pool[mid].cumulative > target) high = mid;
            else low = mid + 1;
        }
        address verifier = _pool[low].verifier;
        StakeSlot storage s = _stakes[verifier][Role.Verifier];
        return s.active && low >= s.firstEntry ? verifier : address(0);
    }

    /// @inheritdoc IStaking
    function poolLength() external view returns (uint256) {
        return _pool.length;
    }

    /// @notice Pool entry `index`: its verifier, the block it was added in, and the cumulative
    ///         weight up to and including it.
    function poolEntry(uint256 index) external view returns (PoolEntry memory) {
        return _pool[index];
    }

    function _minimum(Role role) private view returns (uint256) {
        return role == Role.Worker ? _minWorkerStake : _minVerifierStake;
    }

    /// @dev Adds a pool entry of `weight` for an active verifier; `fresh` voids its older entries.
    function _enterPool(address verifier, StakeSlot storage s, uint256 weight, bool fresh) private {
        uint256 index = _pool.length;
        if (fresh) s.firstEntry = uint64(index);
        if (!s.active || weight == 0) return;
        uint256 cumulative = (index == 0 ? 0 : _pool[index - 1].cumulative) + weight;
        if (cumulative > type(uint128).max) revert StakingPoolFull(cumulative);
        _pool.push(PoolEntry({blockNumber: uint40(block.number), cumulative: uint128(cumulative), verifier: verifier}));
        emit PoolEntryAdded(verifier, index, weight);
    }

    /// @dev How many pool entries were added up to and including block `blockNumber`.
    function _entriesUpTo(uint256 blockNumber) private view returns (uint256) {
        uint256 high = _pool.length;
        if (high == 0 || _pool[high - 1].blockNumber <= blockNumber) return high;
        uint256 low;
        while (low < high) {
            uint256 mid = (low + high) / 2;
            if (_pool[mid].blockNumber > blockNumber) high = mid;
            else low = mid + 1;
        }
        return low;
    }
}
