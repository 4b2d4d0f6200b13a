// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Checkpoints} from "@openzeppelin/contracts/utils/structs/Checkpoints.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

/// @title StakeTree
/// @notice Weights on numbered seats (1, 2, ...), kept so that a draw weighted by them can be
///         made over the weights as they stood at the end of any past block. Only weight that
///         was live at that block can be drawn: a seat whose holder left weighs nothing from
///         that block on, so exits and slashes leave no dead weight behind.
/// @dev A Fenwick tree whose nodes are OpenZeppelin checkpoint traces keyed by block number:
///      node `i` holds the sum of seats `(i - lowbit(i), i]`, and node `capacity` the total.
///      Setting a weight updates the nodes above its seat; a draw walks down from the top, one
///      lookup per level, so both cost a logarithm of the seats. The tree doubles when a seat
///      beyond it is taken: the new top node starts from the old top's sum (it covers the old
///      tree too), and the capacity is itself checkpointed, so that a draw at a past block
///      walks the tree as it was then.
library StakeTree {
    using Checkpoints for Checkpoints.Trace208;
    using SafeCast for uint256;

    struct Tree {
        mapping(uint256 node => Checkpoints.Trace208) nodes;
        Checkpoints.Trace208 capacity;
    }

    /// @notice Changes seat `seat`'s weight from `from` (its weight now) to `to`, from this block on.
    function set(Tree storage tree, uint256 seat, uint256 from, uint256 to) internal {
        if (from == to) return;
        uint48 key = block.number.toUint48();
        uint256 capacity = tree.capacity.latest();
        if (seat > capacity) {
            if (capacity == 0) capacity = 1;
            while (seat > capacity) {
                tree.nodes[2 * capacity].push(key, tree.nodes[capacity].latest());
                capacity *= 2;
            }
            tree.capacity.push(key, capacity.toUint208());
        }
        // Node `i`'s parent is `i + lowbit(i)`; the walk ends at the top node, `capacity`.
        for (uint256 i = seat; i <= capacity; i += _lowbit(i)) {
            Checkpoints.Trace208 storage node = tree.nodes[i];
            uint256 value = node.latest();
            node.push(key, (to > from ? value + (to - from) : value - (from - to)).toUint208());
        }
    }

    /// @notice The sum of all weights at the end of block `blockNumber`.
    function totalAt(Tree storage tree, uint256 blockNumber) internal view returns (uint256) {
        uint48 key = blockNumber.toUint48();
        uint256 capacity = tree.capacity.upperLookupRecent(key);
        return capacity == 0 ? 0 : tree.nodes[capacity].upperLookupRecent(key);
    }

    /// @notice The seat on which the running sum of weights at the end of block `blockNumber`
    ///         first exceeds `target`: for a target uniform below `totalAt(blockNumber)`, each
    ///         seat is found with its share of the weight. Needs `target < totalAt(blockNumber)`.
    function find(Tree storage tree, uint256 blockNumber, uint256 target) internal view returns (uint256 seat) {
        uint48 key = blockNumber.toUint48();
        uint256 capacity = tree.capacity.upperLookupRecent(key);
        // `seat` grows to the last seat whose running sum is at most the target; the answer is the next.
        for (uint256 bit = capacity / 2; bit != 0; bit /= 2) {
            uint256 value = tree.nodes[seat + bit].upperLookupRecent(key);
            if (value <= target) {
                seat += bit;
                target -= value;
            }
        }
        return seat + 1;
    }

    function _lowbit(uint256 i) private pure returns (uint256) {
        // Two's complement: i & -i keeps i's lowest set bit; wrapping is the point here.
        unchecked {
            return i & (~i + 1);
        }
    }
}
