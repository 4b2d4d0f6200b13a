"""Fault injection for the tests, the demo and the benchmarks, from outside the nodes.

Nothing in `node` or `verifier` imports this package (`make lint` checks it), and it is not
shipped in the wheel. It wraps the production components: `python -m faults.worker` runs the
real worker daemon with a tampering inference engine, a result API that withholds outputs or a
worker that goes silent after taking batches on; `python -m faults.verifier` runs the real
verifier with a judge that always accepts or always rejects. Their settings are the production
ones plus `NIGHTSHIFT_FAULTS__*` (see `WorkerFaults` and `VerifierFaults`). Start them on a
devnet with `module=faults.WORKER` or `module=faults.VERIFIER`.
"""

WORKER = "faults.worker"
VERIFIER = "faults.verifier"
