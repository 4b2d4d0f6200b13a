"""The `nightshift` command line: wallet, balances and stake, jobs, daemons and the devnet."""
