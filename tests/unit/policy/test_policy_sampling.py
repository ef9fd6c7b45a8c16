"""Sampling with the policy's own KV-cache loop, on tiny random models of every architecture.

The reference for every number is a separate plain forward pass over prompt + completion, one
sequence at a time, with no padding, no cache and none of the policy's scoring code.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch
import tiny_models

from cosmocore.config import PolicyConfig
from cosmocore.policy import Policy

PROMPTS = ["def add(a, b):\n", 'def double(x: int) -> int:\n    """Twice x."""\n', "x", "```python\ndef f(xs):\n"]
CONFIG = PolicyConfig(max_new_tokens=10, batch_size=3, stop=())


@pytest.fixture(scope="module")
def policies(tiny_dirs) -> dict[str, Policy]:
    return {kind: Policy.from_pretrained(path, CONFIG) for kind, path in tiny_dirs.items()}


def direct_logits(policy: Policy, prompt_ids: tuple[int, ...], completion_ids: tuple[int, ...]) -> torch.Tensor:
    """(T, V) logits predicting each completion token, from one unpadded, uncached forward pass."""
    with torch.no_grad():
        if policy.is_encoder_decoder:
            start = policy.model.config.decoder_start_token_id
            out = policy.model(input_ids=torch.tensor([prompt_ids]),
                               decoder_input_ids=torch.tensor([[start, *completion_ids[:-1]]]))
            return out.logits[0]
        out = policy.model(input_ids=torch.tensor([prompt_ids + completion_ids]))
        return out.logits[0, len(prompt_ids) - 1: -1]


def nucleus_logprobs(logits: torch.Tensor, temperature: float, top_p: float) -> np.ndarray:
    """The sampling distribution computed independently with numpy (sorted cumulative mass)."""
    z = logits.double().numpy() / temperature
    p = np.exp(z - z.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    out = np.full_like(p, -np.inf)
    for t in range(p.shape[0]):
        order = np.argsort(-p[t], kind="stable")
        before = np.cumsum(p[t, order]) - p[t, order]
        kept = order[before < top_p]
        out[t, kept] = np.log(p[t, kept] / p[t, kept].sum())
    return out


@pytest.mark.parametrize("kind", tiny_models.ARCHITECTURES)
def test_behaviour_logprobs_and_entropy_equal_a_separate_forward_pass(policies, kind):
    policy = policies[kind]
    for completion in policy.generate(PROMPTS, seed=3):
        reference = torch.log_softmax(direct_logits(policy, completion.prompt_ids, completion.completion_ids), -1)
        picked = reference.gather(-1, torch.tensor(completion.completion_ids)[:, None])[:, 0]
        entropy = -(reference.exp() * reference).sum(-1)
        np.testing.assert_allclose(completion.logprobs, picked.numpy(), atol=1e-4)
        np.testing.assert_allclose(completion.entropy, entropy.numpy(), atol=1e-4)


@pytest.mark.parametrize("kind", ["llama", "t5"])
def test_logprobs_and_entropy_are_those_of_the_tempered_nucleus(policies, kind):
    policy = policies[kind]
    config = dataclasses.replace(CONFIG, temperature=0.7, top_p=0.5)
    for completion in policy.generate(PROMPTS, config, seed=5):
        reference = nucleus_logprobs(direct_logits(policy, completion.prompt_ids, completion.completion_ids), 0.7, 0.5)
        picked = reference[np.arange(len(completion.completion_ids)), list(completion.completion_ids)]
        finite = np.where(np.isfinite(reference), reference, 0.0)
        entropy = -(np.exp(finite) * finite * np.isfinite(reference)).sum(-1)
        np.testing.assert_allclose(completion.logprobs, picked, atol=1e-4)
        np.testing.assert_allclose(completion.entropy, entropy, atol=1e-4)
        assert np.isfinite(completion.logprobs).all()


@pytest.mark.parametrize("kind", tiny_models.ARCHITECTURES)
def test_score_recomputes_the_behaviour_logprobs_entropies_and_values(policies, kind):
    policy = policies[kind]
    with torch.no_grad():
        policy.value_head.linear.weight.normal_(0, 0.5)  # a non-zero head, so values are checked too
    completions = policy.generate(PROMPTS, dataclasses.replace(CONFIG, temperature=0.9, top_p=0.8), seed=1)
    scores = policy.score([c.prompt_ids for c in completions], [c.completion_ids for c in completions],
                          temperature=0.9, top_p=0.8)
    for row, c in enumerate(completions):
        n = len(c.completion_ids)
        assert scores.mask[row].tolist() == [True] * n + [False] * (scores.mask.shape[1] - n)
        np.testing.assert_allclose(scores.logp[row, :n].detach().numpy(), c.logprobs, atol=1e-4)
        np.testing.assert_allclose(scores.entropy[row, :n].detach().numpy(), c.entropy, atol=1e-4)
        np.testing.assert_allclose(scores.values[row, :n].detach().numpy(), c.values, atol=1e-4)
        assert c.values[0] == c.prompt_value and c.prompt_value != 0.0


def test_score_is_differentiable_in_the_model_and_the_value_head(policies):
    policy = policies["qwen2"]
    completions = policy.generate(PROMPTS[:2], seed=0)
    scores = policy.score([c.prompt_ids for c in completions], [c.completion_ids for c in completions])
    (scores.logp[scores.mask].sum() + scores.values[scores.mask].sum() + scores.entropy.sum()).backward()
    grads = [p.grad for p in policy.trainable_parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert policy.value_head.linear.weight.grad.abs().sum() > 0
    policy.model.zero_grad(set_to_none=True)
    policy.value_head.zero_grad(set_to_none=True)


@pytest.mark.parametrize("kind", ["gpt2", "t5"])
def test_a_stop_sequence_ends_the_completion_and_is_cut_from_its_text(policies, kind):
    policy = policies[kind]
    [free] = policy.generate(PROMPTS[1:2], seed=7)  # one row: the same seed draws the same tokens
    stop = free.text[2:4]
    [stopped] = policy.generate(PROMPTS[1:2], dataclasses.replace(CONFIG, stop=(stop,)), seed=7)
    assert stopped.finish_reason == "stop"
    assert stopped.text == free.text[: free.text.index(stop)]
    assert stop in policy.decode(stopped.completion_ids)  # the tokens that made the stop are kept
    assert stop not in policy.decode(stopped.completion_ids[:-1])
    assert stopped.completion_ids == free.completion_ids[: len(stopped.completion_ids)]


def test_an_end_of_sequence_token_ends_the_completion_and_is_kept_in_the_ids(tiny_dirs):
    greedy = dataclasses.replace(CONFIG, temperature=0.0)
    first = Policy.from_pretrained(tiny_dirs["llama"], greedy).generate(PROMPTS[:1])[0].completion_ids[0]
    policy = Policy.from_pretrained(tiny_dirs["llama"], greedy)
    policy.eos_ids = frozenset({first})  # make the greedy first token the end-of-sequence token
    [c] = policy.generate(PROMPTS[:1])
    assert c.finish_reason == "eos" and c.completion_ids == (first,) and c.text == ""
    assert c.logprobs.tolist() == [0.0] and c.entropy.tolist() == [0.0]  # greedy: a point mass


def test_max_new_tokens_caps_every_completion(policies):
    completions = policies["gpt2"].generate(PROMPTS, dataclasses.replace(CONFIG, max_new_tokens=4), seed=0)
    assert {len(c.completion_ids) for c in completions} == {4}
    assert {c.finish_reason for c in completions} == {"length"}


def test_the_same_seed_gives_the_same_completions_and_another_seed_differs(policies):
    policy = policies["llama"]
    a, b, other = (policy.generate(PROMPTS, seed=s) for s in (11, 11, 12))
    assert [c.completion_ids for c in a] == [c.completion_ids for c in b]
    assert [c.completion_ids for c in a] != [c.completion_ids for c in other]


def test_a_completion_carries_read_only_embeddings_and_the_policy_version(policies):
    policy = policies["t5"]
    policy.version = 4
    [c] = policy.generate(PROMPTS[:1], seed=0, entry_points=["add"])
    policy.version = 0
    assert c.policy_version == 4
    for array in (c.prompt_embedding, c.code_embedding):
        assert array.shape == (policy.hidden_size,) and array.dtype == np.float32 and not array.flags.writeable
    assert len(c.logprobs) == len(c.entropy) == len(c.values) == len(c.completion_ids)
    assert c.mean_entropy == pytest.approx(float(np.mean(c.entropy)))
    assert math.isfinite(float(c.code_embedding.sum())) and np.abs(c.code_embedding).sum() > 0


def test_prompt_embedding_is_the_mean_final_hidden_state_over_the_prompt(policies):
    policy = policies["gpt2"]
    [c] = policy.generate(PROMPTS[1:2], seed=0)
    with torch.no_grad():
        hidden = policy.model(input_ids=torch.tensor([c.prompt_ids]), output_hidden_states=True).hidden_states[-1]
    np.testing.assert_allclose(c.prompt_embedding, hidden[0].mean(0).numpy(), atol=1e-5)


def test_an_empty_prompt_and_an_over_long_prompt_still_sample(policies):
    policy = policies["gpt2"]  # 256 positions: a prompt is cut to its last 256 - max_new_tokens tokens
    long_prompt = "def add(a, b):\n    return a + b\n" * 60
    empty, long = policy.generate(["", long_prompt], seed=0)
    assert empty.prompt_ids == (policy.tokenizer.eos_token_id,) and len(empty.completion_ids) == 10
    assert len(long.prompt_ids) == 256 - 10
    assert long.prompt_ids == tuple(policy.tokenizer(long_prompt)["input_ids"][-(256 - 10):])
