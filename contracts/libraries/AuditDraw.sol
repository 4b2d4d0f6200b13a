// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title AuditDraw
/// @notice Job ids, and which jobs of a batch its seed selects for audit: one definition, used
///         by the market's draw and by anyone checking it.
library AuditDraw {
    uint256 internal constant BPS = 10_000;
    /// @dev A job id is `batchId << INDEX_BITS | index`.
    uint256 internal constant INDEX_BITS = 16;

    /// @notice The id of job `index` of batch `batchId`.
    function jobId(uint256 batchId, uint256 index) internal pure returns (uint256) {
        return (batchId << INDEX_BITS) | index;
    }

    /// @notice The batch a job belongs to.
    function batchOf(uint256 id) internal pure returns (uint256) {
        return id >> INDEX_BITS;
    }

    /// @notice The index of a job in its batch.
    function indexOf(uint256 id) internal pure returns (uint256) {
        return id & type(uint16).max;
    }

    /// @notice A committed batch's audit seed and effective rate. The seed is the hash of the
    ///         block after the commit, which the worker could not know. Once that hash is out of
    ///         `blockhash` reach (256 blocks), the draw is never made afresh (that would hand
    ///         whoever waited a second chance): every job is audited instead, from a seed fixed
    ///         by the batch alone.
    function batchSeed(uint256 batchId, uint256 seedBlock, uint256 auditBps)
        internal
        view
        returns (bytes32 seed, uint256 effectiveBps)
    {
        seed = blockhash(seedBlock);
        if (seed == bytes32(0)) return (keccak256(abi.encode(batchId, seedBlock)), BPS);
        return (seed, auditBps);
    }

    /// @notice Whether `seed` selects job `id` at audit rate `auditBps`.
    function isSelected(bytes32 seed, uint256 id, uint256 auditBps) internal pure returns (bool) {
        return uint256(keccak256(abi.encode(seed, id))) % BPS < auditBps;
    }

    /// @notice The jobs of a batch of `size` that `seed` selects at `auditBps`, in order.
    function selected(bytes32 seed, uint256 batchId, uint256 size, uint256 auditBps)
        internal
        pure
        returns (uint256[] memory jobIds)
    {
        jobIds = new uint256[](size);
        uint256 count;
        for (uint256 i; i < size; ++i) {
            uint256 id = jobId(batchId, i);
            if (isSelected(seed, id, auditBps)) jobIds[count++] = id;
        }
        // Trim the array to the jobs selected.
        assembly ("memory-safe") {
            mstore(jobIds, count)
        }
    }
}
