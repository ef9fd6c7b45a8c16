"""The supervised warm start: tokenizer, model from scratch, training loop, checkpoint."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from cosmocore.config import PretrainConfig
from cosmocore.policy.pretrain import Example, batch_tensors, learning_rate, train_tokenizer, warm_start

EXAMPLES = [Example(f"def f{i}(x):\n    \"\"\"Add {i}.\"\"\"\n", f"    return x + {i}\n") for i in range(12)]
TINY = PretrainConfig(vocab_size=300, hidden_size=32, layers=1, heads=2, steps=40, batch_size=4, lr=1e-2,
                      warmup_steps=5)


def test_the_tokenizer_round_trips_code_and_unicode_exactly():
    tokenizer = train_tokenizer([e.prompt for e in EXAMPLES] + [e.body for e in EXAMPLES], 300)
    text = "def café(s: str) -> str:\n    return s[::-1]  # ünïcode\t\n"
    assert tokenizer.decode(tokenizer(text)["input_ids"]) == text


def test_loss_weights_put_prompt_tokens_at_the_prompt_weight_and_body_tokens_at_one():
    ids, mask, weights = batch_tensors([([5, 6, 7], [8, 9, 0]), ([5], [9, 0])], pad_id=0, prompt_weight=0.3)
    assert ids.tolist() == [[5, 6, 7, 8, 9, 0], [5, 9, 0, 0, 0, 0]]
    assert mask.tolist() == [[1] * 6, [1, 1, 1, 0, 0, 0]]
    # weights[t] is the weight of predicting token t+1: prompt tokens 6, 7 at 0.3, then the body 8, 9, EOS
    assert weights.tolist() == [[pytest.approx(0.3)] * 2 + [1.0] * 3, [1.0, 1.0, 0.0, 0.0, 0.0]]


def test_learning_rate_warms_up_then_decays_to_a_tenth():
    config = dataclasses.replace(TINY, steps=100, warmup_steps=10, lr=1.0)
    assert learning_rate(0, config) == pytest.approx(0.1, rel=0.01)
    assert learning_rate(9, config) == pytest.approx(0.98, rel=0.01)  # warm; cosine barely started
    assert learning_rate(100, config) == pytest.approx(0.1)


def test_warm_start_learns_the_bodies_and_writes_an_ordinary_checkpoint(tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    report = warm_start([EXAMPLES], TINY, tmp_path / "m")
    assert report.steps == 40 and report.final_body_loss < 3.5 and report.parameters > 0  # chance: ln 300 = 5.7
    model = AutoModelForCausalLM.from_pretrained(tmp_path / "m")
    tokenizer = AutoTokenizer.from_pretrained(tmp_path / "m")
    prompt = tokenizer(EXAMPLES[3].prompt)["input_ids"]
    body = tokenizer(EXAMPLES[3].body)["input_ids"] + [tokenizer.eos_token_id]
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([prompt + body])).logits[0, len(prompt) - 1: -1]
    assert float(torch.nn.functional.cross_entropy(logits, torch.tensor(body))) < 3.5


def test_warm_start_is_deterministic_for_a_seed(tmp_path):
    from safetensors.torch import load_file

    short = dataclasses.replace(TINY, steps=5)
    warm_start([EXAMPLES], short, tmp_path / "a")
    warm_start([EXAMPLES], short, tmp_path / "b")
    warm_start([EXAMPLES], dataclasses.replace(short, seed=1), tmp_path / "c")
    a, b, c = (load_file(str(tmp_path / name / "model.safetensors")) for name in "abc")
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)
