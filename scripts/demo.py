"""`make demo`: the whole network on a local devnet, in about two minutes.

It starts anvil, deploys the contracts, registers the three real models, and starts two workers
and three verifiers as separate processes: an honest worker serving all-MiniLM-L6-v2
embeddings, and a cheating worker serving the digit classifier and the pydoc-chat text model
with wrong outputs on about half its jobs. A requester then uses the `nightshift` CLI: it makes
a wallet, takes credits from the devnet faucet, and pays for real embedding, digit and text
generation jobs with a 100% audit rate; the CLI fetches each result and checks it against the
commitment on chain. A verifier drawn at random checks each job (it re-runs an embedding or a
digit, and checks a generation's tokens in one teacher-forced pass); a wrong answer it rejects
goes to a panel of the other verifiers, which upholds the reject: the cheater forfeits each
batch it cheated in and its collateral, and the requester is refunded. The cheater is then
stopped, an honest contributor starts a worker for the text model, and the requester chats with
it through `nightshift chat`: the answer streams as it is generated and is checked against the
chain when committed. Balances are shown before and after, and everything is shut down.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sklearn.datasets import load_digits

import faults
from node.chain.deploy import CREDIT_UNIT, MarketParams
from node.chain.protocol import BatchStatus, batch_of, parse_job
from node.client import RequesterClient
from node.devnet import VERIFIER, WORKER, Devnet

SENTENCES = [
    "Nightshift turns idle machines into an inference network.",
    "Workers stake credits and are paid for honest results.",
    "Verifiers re-run a random sample of jobs.",
    "A cheater loses its stake and the requester is refunded.",
]
PROMPTS = [
    "What does json.dumps do?",
    "What does os.path.join do?",
    "What does shutil.copy do?",
    "What does random.choice do?",
]
QUESTION = "What does itertools.chain do?"
HONEST, CHEATER, TEXT_WORKER, VERIFIER_ACCOUNTS = 6, 7, 8, (16, 17, 18)


def credits(units: int) -> str:
    return f"{units / CREDIT_UNIT:,.4f}"


def say(text: str = "") -> None:
    print(text, flush=True)


def balances(devnet: Devnet, requester: str) -> dict[str, tuple[int, int, int]]:
    """(wallet, withdrawable in the market, stake) per party."""
    rows = {}
    for name, address, role in (
        ("requester", requester, None),
        ("honest worker", devnet.accounts[HONEST].address, WORKER),
        ("cheating worker", devnet.accounts[CHEATER].address, WORKER),
        *((f"verifier {i + 1}", devnet.accounts[a].address, VERIFIER) for i, a in enumerate(VERIFIER_ACCOUNTS)),
    ):
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


class Cli:
    """Runs `nightshift` commands as a person would, printing each one."""

    def __init__(self, devnet: Devnet, home: Path):
        self.env = {
            **os.environ,
            "NIGHTSHIFT_HOME": str(home),
            "NIGHTSHIFT_RPC_URL": devnet.anvil.url,
            "NIGHTSHIFT_DEPLOYMENTS": str(devnet.deployments_path),
            "NIGHTSHIFT_PASSWORD": "demo password",  # Automation: the password from the environment.
            "NIGHTSHIFT_WALLET": "requester",
        }

    def __call__(self, *args: str) -> Any:
        say(f"  $ nightshift {' '.join(shlex.quote(a) for a in args)}")
        done = subprocess.run(
            [sys.executable, "-m", "node.cli.main", "--json", *args], env=self.env, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise RuntimeError(f"nightshift {args[0]} failed: {done.stderr.strip()}")
        return json.loads(done.stdout)

    def live(self, *args: str, stdin: str) -> None:
        """A command whose output is shown as it comes (a streamed chat), fed `stdin`."""
        say(f"  $ echo {shlex.quote(stdin.strip())} | nightshift {' '.join(shlex.quote(a) for a in args)}")
        done = subprocess.run([sys.executable, "-m", "node.cli.main", *args], env=self.env, input=stdin, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"nightshift {args[0]} failed with exit code {done.returncode}")


def main() -> int:
    started = time.monotonic()
    ok = False
    with tempfile.TemporaryDirectory(prefix="nightshift-demo-") as root:
        say("Nightshift demo: a local devnet with real contracts, real models and real HTTP\n")
        say("Starting anvil, deploying the contracts and registering the models...")
        market = MarketParams(challenge_window=5, verdict_window=20)
        devnet = Devnet(Path(root) / "devnet", market=market).up()
        try:
            for spec in devnet.specs:
                say(f"  model {spec.name:<18} id {spec.model_id[:18]}...  policy {spec.mode}")
            say("Starting nodes (each loads its models and checks their ids against the registry)...")
            devnet.start_worker("honest-worker", HONEST, models="all-MiniLM-L6-v2")
            cheater = devnet.start_worker(
                "cheating-worker",
                CHEATER,
                module=faults.WORKER,
                models="digits-mlp,pydoc-chat",
                faults__wrong_rate=0.5,
                faults__seed=1,
            )
            for i, account in enumerate(VERIFIER_ACCOUNTS):
                devnet.start_verifier(f"verifier-{i + 1}", account)
            say("  honest worker    serves all-MiniLM-L6-v2")
            say("  cheating worker  serves digits-mlp and pydoc-chat, and answers about half its jobs wrongly")
            say("  3 verifiers      check the jobs they are drawn for, and sit on dispute panels")

            say("\nThe requester makes a wallet and takes credits from the devnet faucet:")
            cli = Cli(devnet, Path(root) / "home")
            requester = cli("wallet", "new", "requester")["address"]
            cli("faucet", "100")
            before = balances(devnet, requester)
            show_balances("Balances before (credits):", before)

            digits = load_digits()
            picks = list(range(6))
            sentences_file, digits_file = Path(root) / "sentences.jsonl", Path(root) / "digits.jsonl"
            prompts_file = Path(root) / "prompts.jsonl"
            sentences_file.write_text("".join(json.dumps(s) + "\n" for s in SENTENCES))
            digits_file.write_text("".join(json.dumps([int(p) for p in digits.data[i]]) + "\n" for i in picks))
            chats = [
                {"messages": [{"role": "user", "content": p}], "max_tokens": 24, "temperature": 0} for p in PROMPTS
            ]
            prompts_file.write_text("".join(json.dumps(c) + "\n" for c in chats))
            say("\nIt pays for 4 embedding jobs, 6 digit jobs and 4 chat answers, each audited (it pays the")
            say("audit premium), waits, and gets results checked against the hashes on chain:")
            embed = cli(
                "job", "submit", "--model", "all-MiniLM-L6-v2", "--inputs-file", str(sentences_file),
                "--max-price", "0.05", "--audit-rate", "1", "--wait",
            )  # fmt: skip
            digit = cli(
                "job", "submit", "--model", "digits-mlp", "--inputs-file", str(digits_file),
                "--max-price", "0.02", "--audit-rate", "1", "--wait",
            )  # fmt: skip
            text = cli(
                "job", "submit", "--model", "pydoc-chat", "--inputs-file", str(prompts_file),
                "--max-price", "0.01", "--audit-rate", "1", "--wait",
            )  # fmt: skip
            for sentence, row in zip(SENTENCES, embed["results"], strict=True):
                head = ", ".join(f"{x:+.3f}" for x in row["result"][:3])
                say(f"  embedding  {sentence[:44]:<44} -> [{head}, ...]")
            for i, row in zip(picks, digit["results"], strict=True):
                mark = "correct" if row["result"] == digits.target[i] else "WRONG"
                say(f"  digit      image of a {digits.target[i]} -> worker says {row['result']} ({mark})")
            for prompt, row in zip(PROMPTS, text["results"], strict=True):
                answer = row["result"]["text"].replace("\n", " ")
                say(f"  chat       {prompt:<30} -> {answer[:48]!r}")

            say("\nThe verifiers re-run every job; waiting for audits, disputes and finalization...")
            jobs = [r["job"] for r in embed["results"] + digit["results"] + text["results"]]
            batches = [embed["batch"], digit["batch"], text["batch"]]
            kinds = {embed["batch"]: "embedding", digit["batch"]: "digit", text["batch"]: "chat"}
            deadline = time.monotonic() + 150
            statuses: dict[str, str] = {}
            client = RequesterClient(devnet.client())
            done = {BatchStatus.FINALIZED, BatchStatus.FORFEITED}
            while time.monotonic() < deadline:
                statuses = {j: client.job_status(parse_job(j)) for j in jobs}
                settled = all(s in ("finalized", "rejected", "forfeited") for s in statuses.values())
                if settled and all(devnet.view.batch_status(b) in done for b in batches):
                    break
                time.sleep(0.5)
            say("\nOutcomes:")
            for job, status in statuses.items():
                model = kinds[batch_of(parse_job(job))]
                note = {
                    "rejected": "  <- caught: the worker forfeits the batch, the requester is refunded",
                    "forfeited": "  <- unpaid: its batch was forfeited",
                }.get(status, "")
                say(f"  job {job:<5} {model:<10} {status}{note}")
            caught = next((j for j, s in statuses.items() if s == "rejected"), None)
            if caught:
                say("\nAny job can be looked up, or re-verified locally with `nightshift job verify`:")
                row = cli("job", "status", caught)
                say(f"    status {row['status']}, audit {row['audit']}, worker {row['worker']}")
            rejected = sum(1 for s in statuses.values() if s == "rejected")
            caught_text = any(s == "rejected" for j, s in statuses.items() if batch_of(parse_job(j)) == text["batch"])

            say("\nThe cheater is stopped; an honest contributor starts a worker for pydoc-chat, and the")
            say("requester chats with it. The answer streams as the worker generates it (the worker took")
            say("the job on chain first, so it can no longer be cancelled), then is checked against the chain:")
            devnet.stop(cheater)
            devnet.start_worker("text-worker", TEXT_WORKER, models="pydoc-chat")
            cli.live("chat", "--model", "pydoc-chat", "--max-tokens", "48", "--seed", "7", stdin=QUESTION + "\n")

            after = balances(devnet, requester)
            show_balances("Balances after (credits):", after)
            slashed = before["cheating worker"][2] - after["cheating worker"][2]
            earned = sum(after[f"verifier {i + 1}"][1] for i in range(len(VERIFIER_ACCOUNTS)))
            say(f"\nThe cheater lost {credits(slashed)} credits of stake and was paid for none of its caught batches;")
            say(f"the honest worker earned {credits(after['honest worker'][1])} credits, the verifiers")
            say(f"{credits(earned)}, and the requester got its money back for each batch the cheater forfeited.")
            ok = rejected > 0 and caught_text and after["honest worker"][1] > 0 and slashed > 0
        finally:
            say("\nShutting down the nodes and anvil...")
            devnet.down()
    say(f"Done in {time.monotonic() - started:.0f} s.")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
