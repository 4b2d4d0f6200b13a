"""Renders a benchmark result (bench/results/latest.json) as Markdown and as a PNG plot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.common import write_generated
from bench.gaspath import render as render_gas
from bench.gaspath import render_profile, render_steps
from bench.opcodes import render as render_kinds
from bench.profile import render as render_profile_run

TARGETS = {
    "gas_batch1": 150_000,
    "gas_batch64": 12_000,
    "throughput_ratio": 0.7,  # Batch 1, whose jobs each pay a round of transactions.
    "throughput_ratio_batched": 0.8,  # Batch 16 and above.
    "latency_p50_s": 2.0,
    "generation_ratio": 0.8,
    "ttft_p50_s": 0.5,
    "verify_cost_128": 0.2,
}


def _met(ok: bool) -> str:
    return "met" if ok else "missed"


def summary(result: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(target, limit, measured, met?) for every target of the benchmark."""
    gas = {(r["path"], r["batch"]): r["per_job"] for r in result["gas"]["rows"]}
    rows = []
    # Batch 1 in its two shapes: jobs one after another, each commit also finalizing the job
    # before (two transactions per job, as a worker node runs them), and a job all alone, with a
    # finalize transaction of its own.
    for label, path, batch, key in (
        ("batch 1, a stream of lone jobs (2 transactions each)", "unaudited, lone jobs in a stream", 1, "gas_batch1"),
        ("batch 1, one job alone (3 transactions)", "unaudited", 1, "gas_batch1"),
        ("batch 64", "unaudited", 64, "gas_batch64"),
    ):
        value = gas[(path, batch)]
        rows.append(
            (f"gas per unaudited job, {label}", f"<= {TARGETS[key]:,}", f"{value:,}", _met(value <= TARGETS[key]))
        )
    for row in result["throughput"]["rows"]:
        target = TARGETS["throughput_ratio" if row["batch"] < 16 else "throughput_ratio_batched"]
        rows.append((
            f"throughput, {row['workers']} worker(s), batch {row['batch']}, p = 0.1", f">= {target} of raw PyTorch",
            f"{row['ratio']:.3f} ({row['jobs_per_s']:.1f} vs {row['raw_per_s']:.1f} jobs/s; "
            f"{row['ratio_to_faster']:.3f} against the faster raw run)",
            _met(row["ratio"] >= target),
        ))  # fmt: skip
    for lat in result["latency"]:
        p50 = lat["submit_to_result_p50_s"]
        rows.append((
            f"latency p50, submit -> result, {lat['model']}", f"<= {TARGETS['latency_p50_s']} s", f"{p50:.2f} s",
            _met(p50 <= TARGETS["latency_p50_s"]),
        ))  # fmt: skip
    gen = result.get("generation")  # Results from before text generation have none.
    if gen:
        tp, ft = gen["throughput"], gen["first_token"]
        rows.append((
            f"generation throughput, pydoc-chat, batch {tp['batch']}, greedy",
            f">= {TARGETS['generation_ratio']} of transformers generate",
            f"{tp['ratio']:.3f} ({tp['worker_tokens_per_s']:.0f} vs {tp['raw_generate_tokens_per_s']:.0f} tokens/s; "
            f"same tokens in {tp['same_tokens']} of {tp['prompts']})",
            _met(tp["ratio"] >= TARGETS["generation_ratio"]),
        ))  # fmt: skip
        rows.append((
            "time to first token p50, streamed chat through the gateway", f"<= {TARGETS['ttft_p50_s']} s",
            f"{ft['ttft_p50_s']:.3f} s (p95 {ft['ttft_p95_s']:.3f} s, {ft['streams']} streams; "
            f"{ft['stream_tokens_per_s_p50']} tokens/s in one stream, request to last token)",
            _met(ft["ttft_p50_s"] <= TARGETS["ttft_p50_s"]),
        ))  # fmt: skip
        for row in gen["verification_cost"]:
            n = row["generated_tokens"]
            limit = f"<= {TARGETS['verify_cost_128']}" if n == 128 else "(reported)"
            rows.append((
                f"verifier CPU over worker CPU per generation, {n} tokens", limit,
                f"{row['ratio']:.3f} ({row['verifier_cpu_s_per_job'] * 1000:.1f} vs "
                f"{row['worker_cpu_s_per_job'] * 1000:.1f} ms)",
                _met(row["ratio"] <= TARGETS["verify_cost_128"]) if n == 128 else "",
            ))  # fmt: skip
    gw: dict[str, Any] = result.get("gateway_load") or {}  # Results from before it have none.
    for row in gw.get("rows", []):
        rows.append((
            f"gateway, {row['clients']} concurrent client(s), {gw['inputs_per_request']} inputs a request",
            "(reported)",
            f"{row['requests_per_s']:.1f} requests/s, p50 {row['latency_p50_s']:.2f} s, p99 "
            f"{row['latency_p99_s']:.2f} s, {row['refused_429']} 429s waited out; gateway peak "
            f"{gw['gateway_peak_rss_mib']:.0f} MiB",
            "",
        ))  # fmt: skip
    cal = result.get("text_calibration")
    if cal:
        honest = sum(r["generations"] for r in cal["honest"])
        rejects = sum(r["false_rejects"] for r in cal["honest"])
        rows.append((
            "false rejects of honest generations (every variation)", "0 in >= 1,000",
            f"{rejects} in {honest:,}", _met(rejects == 0 and honest >= 1000),
        ))  # fmt: skip
        for r in cal["cheats"]:
            rate = r["detection"]
            rows.append((
                f"detection of a cheat: {r['case']}", ">= 99% of differing answers",
                f"{100 * rate:.1f}% of {r['trials'] - r['same_answer']} ({r['same_answer']} claimed the honest answer)"
                if rate is not None
                else "n/a",
                _met(rate is None or rate >= 0.99),
            ))  # fmt: skip
    for g in result["detection"]["groups"]:
        low, high = g["ci95"]
        rows.append((
            f"detection, k = {g['k']} cheats", f"theory {g['theory']:.3f} within the simultaneous 95% CI",
            f"{g['measured']:.3f} [{low:.3f}, {high:.3f}] over {g['trials']} batches", _met(g["within_ci"]),
        ))  # fmt: skip
    return rows


def _timing(result: dict[str, Any]) -> list[str]:
    """Where the run's time went, and how its workloads were sized (results from before either
    was recorded have neither)."""
    lines = []
    if "steps_s" in result:
        lines.append("Time per part: " + ", ".join(f"{k} {v:.0f} s" for k, v in result["steps_s"].items()) + ".")
    if "sizing" in result:
        size = result["sizing"]
        lines.append(
            f"Workloads sized to this machine: raw PyTorch ran {size['raw_per_s']} sentences/s at batch 16"
            f"{_warmed(size)}, so each "
            f"end-to-end workload has {size['jobs']:,} jobs (about {size['run_s']:.0f} s of raw work, within the "
            f"benchmark's bounds; batch 1 half of it) and each raw baseline {size['raw_sample']} sentences."
        )
    return [*lines, ""] if lines else []


def _warmed(size: dict[str, Any]) -> str:
    if "raw_samples" not in size:
        return ""
    samples = ", ".join(f"{s}" for s in size["raw_samples"])
    return f" (the best of {samples}, after {size['warmup_s']:.0f} s of warm-up)"


def _measured(result: dict[str, Any]) -> str:
    m = result["machine"]
    return (
        f"Measured {result['started']} in {result['duration_s']:.0f} s by `make bench` on {m['cores']} cores "
        f"({m['cpu']}, {m['memory_gib']} GiB), commit {m['commit']}; "
        + ", ".join(f"{k} {v}" for k, v in m["versions"].items())
        + "."
    )


def targets(result: dict[str, Any]) -> str:
    """Where the run was made and the targets table: the generated part of docs/performance.md."""
    return "\n".join([_measured(result), "", *_timing(result), *_targets_table(result)])


def _targets_table(result: dict[str, Any]) -> list[str]:
    rows = [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in summary(result)]
    return ["| target | limit | measured | |", "|---|---|---|---|", *rows]


def write_doc(doc: Path, result: dict[str, Any]) -> None:
    """Replace the generated part of `doc` (between its markers) with this run's targets."""
    write_generated(doc, "<!-- bench:begin (make bench) -->", "<!-- bench:end -->", targets(result))


def markdown(result: dict[str, Any], plot_name: str = "latest.png") -> str:
    out = [
        "# Nightshift benchmark",
        "",
        _measured(result),
        "",
        *_timing(result),
        "## Targets",
        "",
        *_targets_table(result),
        "",
        f"![throughput and gas per job against batch size]({plot_name})",
        "",
        "## Gas per job",
        "",
        "Summed over every party's transactions, steady state (balances already exist). "
        "Floors per job: 21,000 per transaction; the calldata of the transactions' input (4/16 gas per zero/other "
        "byte); the cheapest SSTOREs that make the net storage changes (22,100 per fresh slot, 5,000 per changed one).",
        "",
        render_gas(result["gas"]),
        "",
        "The unaudited job by step, each against its own floors:",
        "",
        render_steps(result["gas"]),
        "",
        "Per call, one batch-1 unaudited job (call tracer):",
        "",
        render_profile(result["gas"]),
        "",
        "The same job by kind of work (opcode trace; a call's own cost excludes the gas it forwards):",
        "",
        render_kinds(result["gas"]["gas_by_kind_batch1_unaudited"]),
        "",
        "## End-to-end throughput (all-MiniLM-L6-v2, p = 0.1)",
        "",
        "From the first submit to the last job final, on one devnet per worker count that runs the batch "
        "sizes in turn; the challenge window is 1 s. Raw PyTorch is the faster of length-sorted batches on "
        "every core and length-sorted batches run side by side on one thread each, longest first (at most "
        "the model's 16 sentences per forward pass, as the node runs them), over 512 of the sentences. It is "
        "measured right before and right after each run, with the devnet's processes paused, and the run is "
        'compared with the mean of the two; the column "ratio to the faster" compares it with the faster '
        "of the two, a lower bound. Gas per job is every transaction in the run's blocks (all parties, audits "
        "included) over its jobs, as the nodes batch them under load.",
        "",
        "| workers | batch | jobs | jobs/s end to end | results/s | raw PyTorch jobs/s (before / after) | ratio "
        "| ratio to the faster | gas per job | CPU seconds |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in result["throughput"]["rows"]:
        cpu = ", ".join(f"{k} {v}" for k, v in r["cpu_s"].items())
        raw = f"{r['raw_before']['best']:.1f} / {r['raw_after']['best']:.1f}"
        out.append(
            f"| {r['workers']} | {r['batch']} | {r['jobs']} | {r['jobs_per_s']:.1f} | {r['results_per_s']:.1f} | "
            f"{raw} | {r['ratio']:.3f} | {r['ratio_to_faster']:.3f} | {r['gas_per_job']:,} | {cpu} |"
        )
    for prof in result.get("profile", []):
        out += [
            "",
            f"### Where the nodes' CPU goes: batch {prof['batch']} (py-spy)",
            "",
            "Each node sampled 50 times a second during one more run (one worker, p = 0.1). Idle threads are "
            "left out; a sample counts where the first matching frame on its stack puts it, the model's "
            "forward pass first. `python -m bench.profile` runs it alone.",
            "",
            render_profile_run(prof),
        ]
    out += [
        "",
        "## Latency of a single job",
        "",
        "| model | jobs | submit -> result p50 / p95 | submit -> finalized p50 / p95 | challenge window |",
        "|---|---:|---:|---:|---:|",
    ]
    for lat in result["latency"]:
        out.append(
            f"| {lat['model']} | {lat['jobs']} | {lat['submit_to_result_p50_s']:.2f} / "
            f"{lat['submit_to_result_p95_s']:.2f} s | {lat['submit_to_finalized_p50_s']:.2f} / "
            f"{lat['submit_to_finalized_p95_s']:.2f} s | {lat['challenge_window_s']} s |"
        )
    out += [
        "",
        "## Verification cost (batch 64, one worker, one verifier)",
        "",
        "| audit rate | jobs | jobs re-executed | fraction re-executed | verifier CPU / worker CPU |",
        "|---:|---:|---:|---:|---:|",
    ]
    for c in result["throughput"]["verification_cost"]:
        out.append(
            f"| {c['audit_rate']} | {c['jobs']} | {c['re_executed']} | {c['re_executed_fraction']:.3f} | "
            f"{c['verifier_cpu_fraction']:.3f} |"
        )
    d = result["detection"]
    out += [
        "",
        f"## Detection of a cheating worker (r = {d['cheat_rate']}, p = {d['audit_rate']}, {d['model']})",
        "",
        f"{d['jobs']} jobs in batches of {d['batch']}, {d['cheats']} cheats, {d['audited_cheats']} of them "
        f"audited ({d['audited_cheats_not_caught']} of those not caught); {d['batches_forfeited']} batches "
        f"forfeited, {d['honest_batches_forfeited']} of them honest; {d['verifiers_slashed']} verifier slashes.",
        "",
        "A batch with k cheats is forfeited whole when any of them is audited: theory 1-(1-p)^k. Intervals "
        "are Wilson intervals, simultaneous at 95% over the group sizes (Bonferroni).",
        "",
        "| k cheats in the batch | batches | forfeited | simultaneous 95% CI | theory 1-(1-p)^k | within CI |",
        "|---:|---:|---:|---|---:|---|",
    ]
    for g in d["groups"]:
        low, high = g["ci95"]
        out.append(
            f"| {g['k']} | {g['trials']} | {g['measured']:.3f} | [{low:.3f}, {high:.3f}] | {g['theory']:.3f} | "
            f"{'yes' if g['within_ci'] else 'no'} |"
        )
    out += _gateway(result) + _generation(result)
    t = result["txrate"]
    out += [
        "",
        "## Transaction sending",
        "",
        "| sender | tx/s | ratio to the plain loop |",
        "|---|---:|---:|",
        f"| plain web3.py loop (fixed gas, no simulation) | {t['plain_web3_loop_per_s']:.0f} | 1.00 |",
        f"| node TxSender, pipelined | {t['tx_sender_pipelined_per_s']:.0f} | {t['pipelined_ratio']:.2f} |",
        f"| node TxSender, one at a time | {t['tx_sender_sequential_per_s']:.0f} | {t['sequential_ratio']:.2f} |",
        "",
        "## Memory",
        "",
        "| process | peak RSS (MiB) |",
        "|---|---:|",
        *[f"| {k} | {v:.0f} |" for k, v in result["throughput"]["peak_rss_mib"].items()],
        "",
    ]
    return "\n".join(out)


def plot(result: dict[str, Any], path: Path) -> None:
    """Throughput and gas per job against batch size, side by side."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    rows = result["throughput"]["rows"]
    batches = sorted({r["batch"] for r in rows})
    raw = [max(r["raw_per_s"] for r in rows if r["batch"] == b) for b in batches]
    left.plot(batches, raw, "k--o", label="raw PyTorch (the higher of the runs' baselines)")
    for workers in sorted({r["workers"] for r in rows}):
        mine = sorted((r["batch"], r["jobs_per_s"]) for r in rows if r["workers"] == workers)
        left.plot([b for b, _ in mine], [v for _, v in mine], "-o", label=f"end to end, {workers} worker(s), p = 0.1")
    left.set_xscale("log", base=2)
    left.set_xlabel("jobs per batch")
    left.set_ylabel("jobs per second")
    left.set_title("all-MiniLM-L6-v2 throughput")
    left.legend()
    gas_rows = result["gas"]["rows"]
    for path_name in ("unaudited", "audited", "disputed", "expired"):
        mine = sorted((r["batch"], r["per_job"]) for r in gas_rows if r["path"] == path_name)
        right.plot([b for b, _ in mine], [v for _, v in mine], "-o", label=path_name)
    right.axhline(150_000, color="grey", linestyle=":", label="150k target (batch 1)")
    right.axhline(30_000, color="grey", linestyle="--", label="30k target (batch 64)")
    right.set_xscale("log", base=2)
    right.set_yscale("log")
    right.set_xlabel("jobs per batch")
    right.set_ylabel("gas per job")
    right.set_title("gas per job, all parties")
    right.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _generation(result: dict[str, Any]) -> list[str]:
    gen = result.get("generation")
    if not gen:
        return []
    tp, ft = gen["throughput"], gen["first_token"]
    out = [
        "",
        "## Text generation (pydoc-chat)",
        "",
        f"{tp['prompts']} chat prompts, batch {tp['batch']}, up to {tp['max_tokens']} tokens, greedy: the worker's "
        f"generation {tp['worker_tokens_per_s']:.0f} tokens/s against transformers' `generate` "
        f"{tp['raw_generate_tokens_per_s']:.0f} (ratio {tp['ratio']:.3f}; the same tokens for {tp['same_tokens']} of "
        f"{tp['prompts']} prompts). Through the gateway on a devnet, {ft['streams']} streamed chats: time to first "
        f"token p50 {ft['ttft_p50_s']:.3f} s, p95 {ft['ttft_p95_s']:.3f} s; one stream's tokens over the time from "
        f"its request to its last token, p50 {ft['stream_tokens_per_s_p50']} tokens/s.",
        "",
        "CPU per job, the worker generating batches of 16 and a verifier checking each job alone in one "
        "teacher-forced pass (the median of several rounds):",
        "",
        "| generated tokens | worker ms | verifier ms | verifier / worker |",
        "|---:|---:|---:|---:|",
    ]
    for row in gen["verification_cost"]:
        out.append(
            f"| {row['generated_tokens']} | {row['worker_cpu_s_per_job'] * 1000:.1f} | "
            f"{row['verifier_cpu_s_per_job'] * 1000:.1f} | {row['ratio']:.3f} |"
        )
    return out


def _gateway(result: dict[str, Any]) -> list[str]:
    gw = result.get("gateway_load")
    if not gw:
        return []
    out = [
        "",
        f"## The gateway under load ({gw['model']}, {gw['inputs_per_request']} inputs a request)",
        "",
        f"Each client posts `/v1/embeddings` back to back for {gw['seconds']:.0f} s; a 429 (more than "
        f"{gw['max_concurrent']} requests at once) is waited out for its `Retry-After` and sent again, and "
        "counts in the latency. Every answer is a job paid on chain and checked against the worker's "
        f"commitment. The gateway's peak memory over the run: {gw['gateway_peak_rss_mib']:.0f} MiB.",
        "",
        "| clients | requests | requests/s | latency p50 | latency p99 | 429s |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for r in gw["rows"]:
        out.append(
            f"| {r['clients']} | {r['requests']} | {r['requests_per_s']:.1f} | {r['latency_p50_s']:.2f} s | "
            f"{r['latency_p99_s']:.2f} s | {r['refused_429']} |"
        )
    return out
