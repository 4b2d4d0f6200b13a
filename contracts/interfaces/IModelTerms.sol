// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IModelTerms
/// @notice What `ModelRegistry` tells the job market it is linked to: each model's terms for
///         new jobs, as they change. The market keeps them in its own storage, so that creating
///         a batch reads one slot there instead of calling the registry (about 3,000 gas less).
interface IModelTerms {
    /// @notice Sets a model's terms for new jobs. Only the market's registry may call it.
    /// @param modelId The model.
    /// @param minPrice The minimum price per job, in credit base units.
    /// @param active Whether new jobs may name the model.
    function setModelTerms(bytes32 modelId, uint64 minPrice, bool active) external;
}
