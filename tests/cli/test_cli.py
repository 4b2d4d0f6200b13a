"""The `nightshift` command line, run as a real process against a devnet it started itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account

from node.chain.anvil import free_port

DIGIT_ZERO = "0,0,5,13,9,1,0,0,0,0,13,15,10,15,5,0,0,3,15,2,0,11,8,0,0,4,12,0,0,8,8,0,0,5,8,0,0,9,8,0,0,4,11,0,1,12,7,0,0,2,14,5,10,12,0,0,0,0,6,13,10,0,0,0"  # noqa: E501


class Cli:
    def __init__(self, home: Path, rpc_url: str):
        self.env = {
            **os.environ,
            "NIGHTSHIFT_HOME": str(home),
            "NIGHTSHIFT_RPC_URL": rpc_url,
            "NIGHTSHIFT_PASSWORD": "correct horse",
        }

    def __call__(self, *args: str, stdin: str | None = None, env: dict[str, str] | None = None, timeout: float = 180):
        return subprocess.run(
            [sys.executable, "-m", "node.cli.main", *args],
            input=stdin,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def json(self, *args: str, **kwargs: object) -> object:
        result = self(*args, "--json", **kwargs)  # type: ignore[arg-type]
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)


def assert_one_line_error(result: subprocess.CompletedProcess[str], code: int, fragment: str) -> None:
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    lines = [line for line in result.stderr.strip().splitlines() if line]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert fragment in lines[0], lines[0]


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cli]:
    home = tmp_path_factory.mktemp("home")
    port = free_port()
    runner = Cli(home, f"http://127.0.0.1:{port}")
    up = runner("devnet", "up", "--workers", "1", "--verifiers", "1", "--port", str(port), timeout=300)
    assert up.returncode == 0, up.stderr + up.stdout
    yield runner
    down = runner.json("devnet", "down")
    assert down["left running"] == []  # type: ignore[index]
    state = (
        json.loads((home / "devnet" / "devnet.json").read_text())
        if (home / "devnet" / "devnet.json").exists()
        else None
    )
    assert state is None


@pytest.fixture(scope="module")
def alice(cli: Cli) -> str:
    created = cli.json("wallet", "new", "alice")
    cli.json("--wallet", "alice", "faucet", "100")
    return created["address"]  # type: ignore[index,no-any-return]


def test_devnet_status_reports_chain_and_nodes(cli):
    status = cli.json("devnet", "status")
    assert status["anvil"] == "running"
    assert any(n.startswith("worker-1") and n.endswith("ok") for n in status["nodes"])
    assert any(n.startswith("verifier-1") and " running" in n for n in status["nodes"])


def test_wallet_round_trip_new_list_show_export_import_delete(cli, tmp_path):
    bob = cli.json("wallet", "new", "bob")
    assert bob["address"] in {w["address"] for w in cli.json("wallet", "list")}
    assert cli.json("wallet", "show", "bob")["address"] == bob["address"]
    exported = cli("wallet", "export", "bob")
    assert exported.returncode == 0
    keystore = json.loads(exported.stdout)
    assert keystore["version"] == 3  # Web3 Secret Storage v3, as geth and MetaMask read it.
    key = Account.decrypt(keystore, "correct horse")
    imported = cli.json("wallet", "import", "bob-copy", stdin=f"{key.hex()}\n")
    assert imported["address"] == bob["address"]
    mnemonic = "test test test test test test test test test test test junk"
    from_mnemonic = cli.json("wallet", "import", "dev0", stdin=f"{mnemonic}\n")
    assert from_mnemonic["address"] == "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
    assert cli.json("wallet", "delete", "bob-copy", "--yes")["deleted"] == "bob-copy"
    assert "bob-copy" not in {w["wallet"] for w in cli.json("wallet", "list")}


def test_wallet_import_rejects_garbage_in_one_line(cli):
    assert_one_line_error(
        cli("wallet", "import", "junk", stdin="not a key\n"), 3, "neither a private key nor a valid mnemonic"
    )


def test_wrong_password_exits_3_without_traceback(cli, alice):
    result = cli("--wallet", "alice", "withdraw", env={"NIGHTSHIFT_PASSWORD": "wrong"})
    assert_one_line_error(result, 3, "wrong password for wallet 'alice'")


def test_submit_embedding_job_waits_and_returns_checked_result(cli, alice):
    submitted = cli.json(
        "--wallet", "alice", "job", "submit", "--model", "all-MiniLM-L6-v2",
        "--input", "hello from the command line", "--max-price", "0.05", "--wait",
    )  # fmt: skip
    (job,) = submitted["results"]
    assert len(job["result"]) == 384
    status = cli.json("--wallet", "alice", "job", "status", job["job"])
    assert status["model"] == "all-MiniLM-L6-v2" and status["requester"] == alice
    result = cli.json("--wallet", "alice", "job", "result", job["job"])
    assert result["result"] == job["result"]
    receipt = cli.json("--wallet", "alice", "job", "verify", job["job"])
    assert receipt["verified"] is True and receipt["output_hash"] == result["output_hash"]
    listed = cli.json("--wallet", "alice", "jobs", "list")
    assert any(row["model"] == "all-MiniLM-L6-v2" for row in listed)


def test_submit_digit_jobs_from_jsonl(cli, alice, tmp_path):
    lines = tmp_path / "digits.jsonl"
    lines.write_text(json.dumps([int(x) for x in DIGIT_ZERO.split(",")]) + "\n" + json.dumps(DIGIT_ZERO) + "\n")
    submitted = cli.json(
        "--wallet", "alice", "job", "submit", "--model", "digits-mlp",
        "--inputs-file", str(lines), "--max-price", "0.01", "--wait",
    )  # fmt: skip
    assert [r["result"] for r in submitted["results"]] == [0, 0]
    history = cli.json("--wallet", "alice", "history")
    assert any(row["event"] == "BatchCreated" for row in history)
    balance = cli.json("--wallet", "alice", "balance")
    assert float(balance["credits"]) < 100


def test_deposit_then_submit_pays_from_market_balance(cli):
    cli.json("wallet", "new", "carol")
    cli.json("--wallet", "carol", "faucet", "10")
    assert cli.json("--wallet", "carol", "deposit", "1")["withdrawable"] == "1"
    cli.json(
        "--wallet", "carol", "job", "submit", "--model", "all-MiniLM-L6-v2", "--input", "hi", "--max-price", "0.05"
    )  # fmt: skip
    balance = cli.json("--wallet", "carol", "balance")
    assert (balance["credits"], balance["withdrawable"]) == ("9", "0.95")
    history = cli.json("--wallet", "carol", "history")
    assert {"Deposited", "BatchCreated"} <= {row["event"] for row in history}  # type: ignore[index]
    created = [row["detail"] for row in history if row["event"] == "BatchCreated"]  # type: ignore[index]
    assert created[0].endswith("(1 jobs, 0.05 paid from the balance)")


def test_deposit_of_zero_exits_6(cli, alice):
    assert_one_line_error(cli("--wallet", "alice", "deposit", "0"), 6, "deposit more than zero credits")


def test_unknown_model_exits_6(cli, alice):
    result = cli("--wallet", "alice", "job", "submit", "--model", "gpt-9", "--input", "x", "--max-price", "1")
    assert_one_line_error(result, 6, "unknown model 'gpt-9'")


def test_price_below_minimum_exits_5(cli, alice):
    result = cli(
        "--wallet", "alice", "job", "submit", "--model", "all-MiniLM-L6-v2", "--input", "x", "--max-price", "0.000001"
    )
    assert_one_line_error(result, 5, "below the model's minimum of 0.01")


def test_input_too_big_exits_5(cli, alice, tmp_path):
    big = tmp_path / "big.txt"
    big.write_text("y" * 5000)
    result = cli(
        "--wallet",
        "alice",
        "job",
        "submit",
        "--model",
        "all-MiniLM-L6-v2",
        "--input-file",
        str(big),
        "--max-price",
        "0.05",
    )
    assert_one_line_error(result, 5, "input 0 is 5000 bytes; the most a job takes inline is 4096")


def test_insufficient_balance_exits_5(cli):
    cli.json("wallet", "new", "dave")
    cli.json("--wallet", "dave", "faucet", "1")
    result = cli("--wallet", "dave", "job", "submit", "--model", "all-MiniLM-L6-v2", "--input", "x", "--max-price", "5")
    assert_one_line_error(result, 5, "insufficient credits")


def test_a_batch_worth_more_than_a_verifier_can_bond_exits_5(cli, alice):
    result = cli(
        "--wallet", "alice", "job", "submit", "--model", "all-MiniLM-L6-v2", "--input", "x", "--max-price", "100"
    )
    assert_one_line_error(result, 5, "batch collateral 2000 over the 500 cap")


def test_unreachable_rpc_exits_4(cli, alice):
    result = cli("--rpc-url", "http://127.0.0.1:9", "--wallet", "alice", "balance")
    assert_one_line_error(result, 4, "cannot reach the RPC at http://127.0.0.1:9")


def test_missing_wallet_exits_3(cli):
    assert_one_line_error(cli("--wallet", "nobody", "balance"), 3, "no wallet named 'nobody'")


def test_collect_fees_credits_what_workers_owe_to_the_treasury(cli, alice):
    collected = cli.json("--wallet", "alice", "collect-fees")
    assert set(collected) == {"accounts", "collected", "treasury withdrawable"}  # type: ignore[arg-type]
    assert float(collected["treasury withdrawable"]) >= float(collected["collected"]) >= 0  # type: ignore[index]


def test_submit_text_job_waits_and_verify_reruns_it(cli, alice):
    submitted = cli.json(
        "--wallet", "alice", "job", "submit", "--model", "pydoc-chat",
        "--input", "Return the", "--max-price", "0.01", "--wait",
    )  # fmt: skip
    (job,) = submitted["results"]
    assert job["result"]["finish_reason"] in ("stop", "length") and job["result"]["text"]
    assert 1 <= job["result"]["usage"]["completion_tokens"] <= 64
    receipt = cli.json("--wallet", "alice", "job", "verify", job["job"])
    assert receipt["verified"] is True and receipt["policy"] == "tolerant"


def test_text_job_priced_below_its_max_tokens_exits_5(cli, alice, tmp_path):
    requests = tmp_path / "requests.jsonl"
    requests.write_text(json.dumps({"prompt": "Return the", "max_tokens": 500}) + "\n")
    result = cli(
        "--wallet", "alice", "job", "submit", "--model", "pydoc-chat", "--inputs-file", str(requests),
        "--max-price", "0.01",
    )  # fmt: skip
    assert_one_line_error(result, 5, "below the model's minimum of 0.05 for these inputs")


def test_chat_streams_each_turn_and_checks_it_against_the_chain(cli, alice):
    result = cli(
        "--wallet", "alice", "chat", "--model", "pydoc-chat", "--max-tokens", "16", "--seed", "3", "--json",
        stdin="What does json.dumps do?\nAnd json.loads?\n/exit\n",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    turns = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(turns) == 2 and all(t["verified_against_chain"] for t in turns)
    assert all(1 <= t["completion_tokens"] <= 16 and t["finish_reason"] in ("stop", "length") for t in turns)
    for turn in turns:  # Each answer is the committed output of its own paid job.
        assert cli.json("--wallet", "alice", "job", "result", turn["job"])["result"]["text"] == turn["text"]
    shown = cli("--wallet", "alice", "chat", "--model", "pydoc-chat", "--max-tokens", "8", stdin="Hello\n")
    assert shown.returncode == 0 and "pydoc-chat (" in shown.stdout, shown.stderr


def test_chat_with_a_model_that_does_not_generate_text_exits_6(cli, alice):
    result = cli("--wallet", "alice", "chat", "--model", "digits-mlp", stdin="hi\n")
    assert_one_line_error(result, 6, "model 'digits-mlp' does not generate text")


def test_devnet_up_with_an_unknown_model_exits_6_before_starting_anything(cli, tmp_path):
    result = cli("devnet", "up", "--models", "pydoc-chat,no-such-model", "--dir", str(tmp_path / "net"))
    assert_one_line_error(result, 6, "unknown model 'no-such-model'")
    assert not (tmp_path / "net" / "devnet.json").exists()


# Bad input to the CLI: each case is one line on stderr, no traceback, and its own exit code
# (2 usage, 3 wallet, 5 refused by the contracts, 6 bad input), and with the other CLI tests
# above a catalogue of the CLI's bad input. `{file}` stands for a file holding `content`.
BAD_INPUT = [
    (
        "digit input of the wrong size",
        ["job", "submit", "--model", "digits-mlp", "--input", "1,2,3", "--max-price", "1"],
        None,
        6,
        "64",
    ),
    ("no input at all", ["job", "submit", "--model", "all-MiniLM-L6-v2", "--max-price", "1"], None, 6, "input"),
    (
        "two kinds of input",
        ["job", "submit", "--model", "all-MiniLM-L6-v2", "--input", "a", "--input-file", "{file}", "--max-price", "1"],
        "b",
        6,
        "input",
    ),
    (
        "a price that is not a number",
        ["job", "submit", "--model", "all-MiniLM-L6-v2", "--input", "a", "--max-price", "lots"],
        None,
        6,
        "lots",
    ),
    (
        "a negative price",
        ["job", "submit", "--model", "all-MiniLM-L6-v2", "--input", "a", "--max-price", "-1"],
        None,
        6,
        "-1",
    ),
    (
        "a JSONL line that is not JSON",
        ["job", "submit", "--model", "all-MiniLM-L6-v2", "--inputs-file", "{file}", "--max-price", "1"],
        '"ok"\n{not json\n',
        6,
        "line 2",
    ),
    (
        "an empty inputs file",
        ["job", "submit", "--model", "all-MiniLM-L6-v2", "--inputs-file", "{file}", "--max-price", "1"],
        "",
        6,
        "no input",
    ),
    (
        "a generation request with max_tokens 0",
        ["job", "submit", "--model", "pydoc-chat", "--inputs-file", "{file}", "--max-price", "1"],
        '{"prompt": "x", "max_tokens": 0}\n',
        6,
        "max_tokens",
    ),
    (
        "a generation request with an unknown field",
        ["job", "submit", "--model", "pydoc-chat", "--inputs-file", "{file}", "--max-price", "1"],
        '{"prompt": "x", "temperture": 1}\n',
        6,
        "temperture",
    ),
    ("a malformed job id", ["job", "status", "seven"], None, 6, "seven"),
    ("a job of a batch that does not exist", ["job", "status", "99999.0"], None, 6, "99999"),
    ("a faucet amount that is not a number", ["faucet", "lots"], None, 6, "lots"),
    ("an option that does not exist", ["faucet", "-5"], None, 2, "No such option: -5"),
    ("a role that does not exist", ["stake", "--role", "oracle", "10"], None, 2, "oracle"),
    ("a wallet that exists already", ["wallet", "new", "alice"], None, 3, "alice"),
    ("showing a wallet that does not exist", ["wallet", "show", "nobody"], None, 3, "nobody"),
    ("chat with an unknown model", ["chat", "--model", "no-such-model"], None, 6, "no-such-model"),
    ("chat with max-tokens 0", ["chat", "--model", "pydoc-chat", "--max-tokens", "0"], None, 2, "max-tokens"),
    ("an exit from a stake never made", ["unstake", "--role", "verifier"], None, 5, "verifier"),
    ("a gateway port out of range", ["gateway", "run", "--port", "99999"], None, 2, "99999"),
]


@pytest.mark.parametrize(
    ("args", "content", "code", "fragment"), [c[1:] for c in BAD_INPUT], ids=[c[0] for c in BAD_INPUT]
)
def test_bad_input_is_one_line_with_its_exit_code(cli, alice, tmp_path, args, content, code, fragment):
    path = tmp_path / "input"
    if content is not None:
        path.write_text(content)
    result = cli("--wallet", "alice", *(str(path) if a == "{file}" else a for a in args))
    assert_one_line_error(result, code, fragment)
