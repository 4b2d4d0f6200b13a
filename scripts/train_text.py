"""Train the bundled text model, pydoc-chat, and save it as a Hugging Face folder.

    python scripts/train_text.py [--out node/inference/models/pydoc_chat] [--steps 1600]

No package on the registries carries generative weights and nothing may be downloaded at run
time, so the devnet, the demo and CI serve a model trained here, whose weights are committed:
every machine then computes the same model id. The corpus is the docstrings of the Python
standard library (PSF licence), as chat pairs: "What does json.dumps do?" answered with the
first paragraph of `json.dumps.__doc__`. The model is a Llama (4 layers, width 128, grouped
query attention, about a million parameters) with a byte-level BPE tokenizer of 2,048 tokens
and a chat template; its answers read like docstrings, often of the wrong function.

Seeded; prints the held-out loss. Training takes a few minutes on two cores.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import inspect
import io
import json
import math
import random
import sys
import time
import warnings
from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

from node.inference.identity import model_id

OUT = Path(__file__).resolve().parents[1] / "node" / "inference" / "models" / "pydoc_chat"
VOCAB = 2048
SPECIAL = ["<|end|>", "<|pad|>", "<|system|>", "<|user|>", "<|assistant|>"]
CHAT_TEMPLATE = (
    "{% for message in messages %}<|{{ message['role'] }}|>\n{{ message['content'] }}<|end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)
# Modules that open windows, print on import, start processes or are deprecated shims.
SKIP = {"antigravity", "this", "idlelib", "tkinter", "turtle", "turtledemo", "lib2to3", "pydoc_data", "ensurepip"}


def docstring_pairs() -> list[tuple[str, str]]:
    """(question, first paragraph of a docstring) for the modules and the public functions,
    classes and methods of the standard library, in a fixed order."""
    pairs: dict[str, str] = {}
    names = sorted(n for n in sys.stdlib_module_names if not n.startswith("_") and n not in SKIP)
    for name in names:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            try:
                module = importlib.import_module(name)
            except Exception:  # Platform-only modules (winreg, msvcrt, ...).
                continue
        _add(pairs, name, module, "What is the {} module?")
        for attr in sorted(dir(module)):
            obj = getattr(module, attr, None)
            if attr.startswith("_") or getattr(obj, "__module__", None) != name:
                continue
            if not (inspect.isfunction(obj) or inspect.isclass(obj) or inspect.isbuiltin(obj)):
                continue
            _add(pairs, f"{name}.{attr}", obj)
            if inspect.isclass(obj):
                for method in sorted(vars(obj)):
                    if not method.startswith("_") and callable(vars(obj)[method]):
                        _add(pairs, f"{name}.{attr}.{method}", vars(obj)[method])
    return sorted(pairs.items())


def _add(pairs: dict[str, str], qualname: str, obj: object, question: str = "What does {} do?") -> None:
    doc = inspect.getdoc(obj)
    if not doc:
        return
    paragraph = doc.split("\n\n")[0].strip()
    if 20 <= len(paragraph) <= 400 and paragraph.isascii():
        pairs[question.format(qualname)] = " ".join(paragraph.split())


def chat_text(question: str, answer: str) -> str:
    return f"<|user|>\n{question}<|end|>\n<|assistant|>\n{answer}<|end|>\n"


def build_tokenizer(texts: list[str]) -> Tokenizer:
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB, special_tokens=SPECIAL, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tokenizer.train_from_iterator(texts, trainer=trainer)
    return tokenizer


def train(steps: int, seed: int, out: Path) -> None:
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    random.seed(seed)
    torch.manual_seed(seed)
    pairs = docstring_pairs()
    texts = [chat_text(question, doc) for question, doc in pairs]
    random.shuffle(texts)
    held_out, texts = texts[: len(texts) // 50], texts[len(texts) // 50 :]
    fast = PreTrainedTokenizerFast(
        tokenizer_object=build_tokenizer(texts),
        eos_token="<|end|>",
        pad_token="<|pad|>",
        additional_special_tokens=SPECIAL[2:],
        chat_template=CHAT_TEMPLATE,
        model_max_length=512,
    )
    config = LlamaConfig(
        vocab_size=len(fast),
        hidden_size=128,
        intermediate_size=384,
        num_hidden_layers=4,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        tie_word_embeddings=True,
        eos_token_id=fast.eos_token_id,
        pad_token_id=fast.pad_token_id,
        bos_token_id=None,
    )
    model = LlamaForCausalLM(config)
    stream = torch.tensor([t for text in texts for t in fast(text)["input_ids"]])
    held = torch.tensor([t for text in held_out for t in fast(text)["input_ids"]])
    print(f"{len(pairs)} docstrings, {len(stream)} training tokens, {model.num_parameters()} parameters")
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, s / 100) * 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps))
    )
    window, batch = 256, 16
    started = time.perf_counter()
    model.train()
    for step in range(steps):
        starts = torch.randint(0, len(stream) - window - 1, (batch,))
        ids = torch.stack([stream[s : s + window + 1] for s in starts.tolist()])
        loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        if step % 100 == 0:
            print(f"step {step} loss {loss.item():.3f} ({time.perf_counter() - started:.0f} s)")
    model.eval()
    with torch.no_grad():
        chunks = held[: (len(held) // window) * window].view(-1, window)
        held_loss = model(input_ids=chunks, labels=chunks).loss.item()
    if model.generation_config is not None:
        model.generation_config.eos_token_id = fast.eos_token_id
        model.generation_config.pad_token_id = fast.pad_token_id
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    fast.save_pretrained(out)
    summary = {"held_out_loss": round(held_loss, 3), "model_id": "0x" + model_id(model.state_dict()).hex()}
    print(json.dumps(summary))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--steps", type=int, default=1600)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(2)
    train(args.steps, args.seed, args.out)


if __name__ == "__main__":
    main()
