"""`make demo`: the whole network on a local devnet, in about a minute.

It starts anvil, deploys the contracts, registers the two real models, and starts two workers
and one verifier as separate processes: an honest worker serving all-MiniLM-L6-v2 embeddings,
and a cheating worker serving the digit classifier with wrong outputs on about half its jobs.
A requester then pays for real embedding and digit jobs with a 100% audit rate, fetches each
result and checks it against the hash on chain. The verifier re-runs every job; the cheater's
wrong answers are rejected, its stake is slashed and the requester is refunded. Balances are
shown before and after, and everything is shut down.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from pydantic import SecretStr
from sklearn.datasets import load_digits

from node.chain.client import ChainClient
from node.chain.deploy import CREDIT_UNIT, MarketParams
from node.client import RequesterClient
from node.devnet import VERIFIER, WORKER, Devnet
from node.inference.encoding import decode_output
from node.inference.models.digits import encode_pixels

SENTENCES = [
    b"Nightshift turns idle machines into an inference network.",
    b"Workers stake credits and are paid for honest results.",
    b"Verifiers re-run a random sample of jobs.",
    b"A cheater loses its stake and the requester is refunded.",
]
REQUESTER, HONEST, CHEATER, VERIFIER_ACCOUNT = 2, 6, 7, 16
JOB_STATUS = {7: "finalized", 8: "REJECTED (worker slashed, requester refunded)"}


def credits(units: int) -> str:
    return f"{units / CREDIT_UNIT:,.4f}"


def say(text: str = "") -> None:
    print(text, flush=True)


def balances(devnet: Devnet) -> dict[str, tuple[int, int, int]]:
    """(wallet, withdrawable in the market, stake) per party."""
    rows = {}
    for name, index, role in (
        ("requester", REQUESTER, None),
        ("honest worker", HONEST, WORKER),
        ("cheating worker", CHEATER, WORKER),
        ("verifier", VERIFIER_ACCOUNT, VERIFIER),
    ):
        address = devnet.accounts[index].address
        wallet = devnet.credit.functions.balanceOf(address).call()
        earned = devnet.market_contract.functions.balanceOf(address).call()
        stake = devnet.staking.functions.getStake(address, role).call()[0] if role is not None else 0
        rows[name] = (wallet, earned, stake)
    return rows


def show_balances(title: str, rows: dict[str, tuple[int, int, int]]) -> None:
    say(f"\n{title}")
    say(f"  {'party':<16} {'wallet':>14} {'withdrawable':>14} {'stake':>14}")
    for name, (wallet, earned, stake) in rows.items():
        say(f"  {name:<16} {credits(wallet):>14} {credits(earned):>14} {credits(stake):>14}")


def main() -> int:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="nightshift-demo-") as root:
        say("Nightshift demo: a local devnet with real contracts, real models and real HTTP\n")
        say("Starting anvil, deploying the contracts and registering the models...")
        market = MarketParams(base_audit_bps=1000, challenge_window=5, verdict_window=20, panel_size=2)
        devnet = Devnet(Path(root), market=market).up()
        try:
            for spec in devnet.specs:
                say(f"  model {spec.name:<18} id {spec.model_id[:18]}...  policy {spec.mode}")
            say("Starting nodes (each loads its models and checks their ids against the registry)...")
            devnet.start_worker("honest-worker", HONEST, models="all-MiniLM-L6-v2")
            devnet.start_worker("cheating-worker", CHEATER, models="digits-mlp", faults__wrong_rate=0.5, faults__seed=1)
            devnet.start_verifier("verifier", VERIFIER_ACCOUNT)
            say("  honest worker    serves all-MiniLM-L6-v2")
            say("  cheating worker  serves digits-mlp, and answers about half its jobs wrongly")
            say("  verifier         re-runs audited jobs and votes")
            devnet.fund(REQUESTER, 100)
            before = balances(devnet)
            show_balances("Balances before (credits):", before)

            key = SecretStr("0x" + devnet.accounts[REQUESTER].key.hex().removeprefix("0x"))
            client = RequesterClient(ChainClient(devnet.anvil.url, devnet.deployments_path, key))
            digits = load_digits()
            picks = list(range(6))
            say("\nSubmitting 4 embedding jobs and 6 digit jobs, each audited (the requester pays the premium)...")
            embed = client.submit("all-MiniLM-L6-v2", SENTENCES, 50_000, audit_bps=10_000)
            digit = client.submit(
                "digits-mlp", [encode_pixels(digits.data[i]) for i in picks], 20_000, audit_bps=10_000
            )
            for sub in (embed, digit):
                client.wait(sub.batch_id, {"committed", "drawn", "finalized"}, timeout=60)

            say("\nResults, fetched from the workers and checked against the hashes on chain:")
            for sentence, job in zip(SENTENCES, embed.job_ids, strict=True):
                vector = decode_output(client.fetch(job))
                say(f"  embedding  {sentence.decode()[:44]:<44} -> [{', '.join(f'{x:+.3f}' for x in vector[:3])}, ...]")
            for i, job in zip(picks, digit.job_ids, strict=True):
                label = int(decode_output(client.fetch(job))[0])
                mark = "correct" if label == digits.target[i] else "WRONG"
                say(f"  digit      image of a {digits.target[i]} -> worker says {label} ({mark})")

            say("\nWaiting for the audits, disputes and finalization...")
            all_jobs = embed.job_ids + digit.job_ids
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                statuses = [devnet.market_contract.functions.jobStatus(j).call() for j in all_jobs]
                if all(s in JOB_STATUS for s in statuses):
                    break
                time.sleep(0.5)
            for sub in (embed, digit):
                client.wait(sub.batch_id, {"finalized"}, timeout=60)
            say("\nOutcomes:")
            for job, status in zip(all_jobs, statuses, strict=True):
                model = "embedding" if job in embed.job_ids else "digit"
                say(f"  job {job >> 16}.{job & 0xFFFF:<3} {model:<10} {JOB_STATUS.get(status, status)}")
            rejected = sum(1 for s in statuses if s == 8)

            after = balances(devnet)
            show_balances("Balances after (credits):", after)
            slashed = before["cheating worker"][2] - after["cheating worker"][2]
            say(f"\nThe cheater lost {credits(slashed)} credits of stake over {rejected} rejected jobs;")
            say(f"the honest worker earned {credits(after['honest worker'][1])} credits, the verifier")
            say(f"{credits(after['verifier'][1])}, and the requester got its money back for every wrong answer.")
            ok = rejected > 0 and after["honest worker"][1] > 0 and slashed > 0
        finally:
            say("\nShutting down the nodes and anvil...")
            devnet.down()
    say(f"Done in {time.monotonic() - started:.0f} s.")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
