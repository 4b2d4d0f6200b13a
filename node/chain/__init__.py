"""Everything that talks to the chain: artifacts, deployments, transactions, errors, anvil."""
