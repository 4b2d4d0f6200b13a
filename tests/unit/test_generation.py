"""Text generation: the loader on two architectures, reproducible seeded sampling, and the
teacher-forced check, which passes honest variations and rejects each kind of cheat."""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path

import pytest
import torch

from node.inference.engine import InferenceEngine
from node.inference.errors import InferenceError, OutputDecodeError
from node.inference.generation import Finish, Generation, GenerationRequest
from node.inference.models.causal_lm import CausalLM, PydocChat, folder_plugin

QUESTIONS = ["What does json.dumps do?", "What is the os module?", "What does zipfile.ZipFile.open do?"]


def chat(question: str, **params: object) -> bytes:
    return GenerationRequest.model_validate({"messages": [{"role": "user", "content": question}], **params}).encode()


def requests() -> list[bytes]:
    """Greedy, sampled, nucleus, stop sequences and a raw prompt."""
    return [
        chat(QUESTIONS[0], max_tokens=24, temperature=0.0),
        chat(QUESTIONS[1], max_tokens=24, temperature=1.0, seed=7),
        chat(QUESTIONS[2], max_tokens=24, temperature=0.7, top_p=0.9, seed=11),
        chat(QUESTIONS[0], max_tokens=40, temperature=1.2, seed=3, stop=["e"]),
        GenerationRequest(prompt="Return the", max_tokens=16, seed=5).encode(),
    ]


def random_model(folder: Path, arch: str) -> Path:
    """A seeded random model of `arch` with the bundled tokenizer (no chat template for GPT-2,
    so that the plain-text fallback is exercised)."""
    from transformers import AutoTokenizer, GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(PydocChat.path, local_files_only=True)
    if arch == "gpt2":
        tokenizer.chat_template = None
        model = GPT2LMHeadModel(GPT2Config(vocab_size=len(tokenizer), n_positions=128, n_embd=64, n_layer=2, n_head=2))
    else:
        config = LlamaConfig(
            vocab_size=len(tokenizer),
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            max_position_embeddings=128,
        )
        model = LlamaForCausalLM(config)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> InferenceEngine:
    engine = InferenceEngine()
    root = tmp_path_factory.mktemp("models")
    engine.load(
        [PydocChat.name, str(random_model(root / "tiny-gpt2", "gpt2")), str(random_model(root / "tiny-llama", "llama"))]
    )
    return engine


@pytest.fixture(scope="module")
def chat_model(engine: InferenceEngine) -> CausalLM:
    plugin = engine.plugin_by_name(PydocChat.name)
    assert isinstance(plugin, CausalLM)
    return plugin


def verify(engine: InferenceEngine, plugin: CausalLM, inputs: list[bytes], claimed: list[bytes]) -> list[str | None]:
    """None for each accepted claim, else the reason it was rejected."""
    return [None if c.accepted else c.reason for c, _ in engine.verify(plugin.model_id, inputs, claimed)]


@pytest.mark.parametrize("name", [PydocChat.name, "tiny-gpt2", "tiny-llama"])
def test_generations_of_each_architecture_pass_the_teacher_forced_check(engine, name):
    plugin = engine.plugin_by_name(name)
    outputs = engine.run(plugin.model_id, requests())
    generations = [Generation.decode(o) for o in outputs]
    assert all(g.tokens and g.finish in (Finish.STOP, Finish.LENGTH) for g in generations)
    assert verify(engine, plugin, requests(), outputs) == [None] * len(outputs)


def test_a_model_folder_is_served_under_its_name_and_id_of_its_weights(engine, tmp_path):
    plugin = engine.plugin_by_name("tiny-llama")
    again = folder_plugin(str(random_model(tmp_path / "tiny-llama", "llama")))()
    again.load()
    assert again.name == "tiny-llama" and again.model_id == plugin.model_id
    with pytest.raises(InferenceError, match="no model folder"):
        folder_plugin(str(tmp_path / "missing"))


def test_the_chat_model_answers_a_question_it_was_trained_on(engine, chat_model):
    (output,) = engine.run(chat_model.model_id, [chat("What does json.dumps do?", max_tokens=24, temperature=0.0)])
    assert "JSON" in Generation.decode(output).text


def test_sampling_is_reproducible_alone_in_a_batch_and_without_a_kv_cache(engine, chat_model, monkeypatch):
    batched = [Generation.decode(o) for o in engine.run(chat_model.model_id, requests())]
    alone = [Generation.decode(engine.run(chat_model.model_id, [r])[0]) for r in requests()]
    monkeypatch.setattr(PydocChat, "use_cache", False)
    uncached = [Generation.decode(o) for o in engine.run(chat_model.model_id, requests())]
    for a, b, c in zip(batched, alone, uncached, strict=True):
        assert a.tokens == b.tokens == c.tokens and a.text == b.text == c.text
        assert max(abs(x - y) for x, y in zip(a.logprobs, c.logprobs, strict=True)) < 1e-4
    for a, b in zip(engine.run(chat_model.model_id, requests()), [x.encode() for x in alone], strict=True):
        assert chat_model.policy.compare(a, b).accepted


def test_an_invalid_input_has_the_empty_generation_and_nothing_else_passes_for_it(engine, chat_model):
    bad = [b"not json", b'{"prompt": "x", "max_tokens": 0}', b'{"prompt": "x", "messages": []}', b'{"prompt": 3}']
    outputs = engine.run(chat_model.model_id, bad)
    assert all(Generation.decode(o) == Generation.invalid() for o in outputs)
    assert verify(engine, chat_model, bad, outputs) == [None] * len(bad)
    (honest,) = engine.run(chat_model.model_id, [requests()[0]])
    assert verify(engine, chat_model, bad[:1], [honest]) == ["the input is invalid: the output must be empty"]


def _cheats(engine: InferenceEngine, plugin: CausalLM) -> dict[str, tuple[bytes, bytes]]:
    """(input, claimed output) for each kind of cheat, all for sampled requests."""
    request = chat(QUESTIONS[1], max_tokens=24, temperature=1.0, seed=7)
    params = GenerationRequest.decode(request)
    assert params is not None
    honest = Generation.decode(engine.run(plugin.model_id, [request])[0])

    def generated(other: bytes, model: str = PydocChat.name) -> Generation:
        return Generation.decode(engine.run(engine.plugin_by_name(model).model_id, [other])[0])

    def retokened(g: Generation, tokens: tuple[int, ...]) -> Generation:
        return dataclasses.replace(g, tokens=tokens, text=plugin._tokenizer.decode(list(tokens)))

    other_seed = generated(chat(QUESTIONS[1], max_tokens=24, temperature=1.0, seed=8))
    hotter = generated(chat(QUESTIONS[1], max_tokens=24, temperature=1.5, seed=7))
    other_prompt = generated(chat(QUESTIONS[0], max_tokens=24, temperature=1.0, seed=7))
    other_model = generated(request, "tiny-llama")
    random_tokens = tuple(
        int(t) for t in torch.randint(0, 2000, (len(honest.tokens),), generator=torch.Generator().manual_seed(1))
    )
    cases = {
        "another seed's tokens": other_seed,
        "another temperature": hotter,
        "another prompt's text": other_prompt,
        "another model": other_model,
        "random tokens": retokened(honest, random_tokens),
        "a changed token": retokened(honest, (honest.tokens[0] + 1, *honest.tokens[1:])),
        "honest tokens, made-up log-probabilities": dataclasses.replace(honest, logprobs=(-1.0,) * len(honest.tokens)),
        "truncated": dataclasses.replace(
            honest,
            tokens=honest.tokens[:-4],
            logprobs=honest.logprobs[:-4],
            text=plugin._tokenizer.decode(list(honest.tokens[:-4])),
        ),
        "padded": dataclasses.replace(honest, tokens=(*honest.tokens, 5), logprobs=(*honest.logprobs, -1.0)),
        "the text changed": dataclasses.replace(honest, text=honest.text + "!"),
        "another finish reason": dataclasses.replace(
            honest, finish=Finish.LENGTH if honest.finish == Finish.STOP else Finish.STOP
        ),
        "another prompt length": dataclasses.replace(honest, prompt_tokens=honest.prompt_tokens + 1),
    }
    return {name: (request, g.encode()) for name, g in cases.items()}


def test_every_kind_of_cheat_is_rejected(engine, chat_model):
    for name, (request, claimed) in _cheats(engine, chat_model).items():
        assert verify(engine, chat_model, [request], [claimed]) != [None], name


def test_bfloat16_compute_is_rejected(engine, chat_model, monkeypatch):
    requests_ = requests()
    honest = engine.run(chat_model.model_id, requests_)
    monkeypatch.setattr(chat_model, "_model", copy.deepcopy(chat_model._model).to(torch.bfloat16))
    cheap = engine.run(chat_model.model_id, requests_)
    monkeypatch.undo()
    assert all(r is not None for r in verify(engine, chat_model, requests_, cheap))
    assert verify(engine, chat_model, requests_, honest) == [None] * len(honest)


def test_a_malformed_generation_is_an_undecodable_output():
    good = Generation(Finish.LENGTH, 3, (1, 2), (-0.5, -0.25), "ab").encode()
    assert Generation.decode(good).tokens == (1, 2)
    for bad in (b"", b"NSG1", good[:16], b"XXXX" + good[4:], good[:4] + b"\x09" + good[5:], good[:-2] + b"\xff\xfe"):
        with pytest.raises(OutputDecodeError):
            Generation.decode(bad)


def test_the_request_encoding_is_canonical():
    a = GenerationRequest.model_validate({"prompt": "hi", "temperature": 1, "seed": 2})
    b = GenerationRequest.decode(b'{"seed": 2, "prompt": "hi", "temperature": 1.0}')
    assert b is not None and a.encode() == b.encode()
    assert a.encode() == b'{"max_tokens":64,"prompt":"hi","seed":2,"stop":[],"temperature":1.0,"top_p":1.0}'
    for bad in (
        {"prompt": "x", "top_p": 0},
        {"prompt": "x", "max_tokens": 5000},
        {"messages": [{"role": "bot", "content": "x"}]},
    ):
        assert GenerationRequest.decode(str(bad).replace("'", '"').encode()) is None


def test_the_price_of_a_generation_follows_its_max_tokens():
    assert PydocChat.min_job_price(chat("x", max_tokens=100)) == 100 * PydocChat.min_price
    assert PydocChat.min_job_price(b"not json") == PydocChat.min_price
