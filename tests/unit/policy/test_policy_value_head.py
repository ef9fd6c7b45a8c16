"""The value head's ridge fit: the pure math against hand-computed numbers and numpy, then
`Policy.fit_value_head` on tiny models against an independent gathering of the hidden states."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from cosmocore.config import PolicyConfig
from cosmocore.policy import Policy
from cosmocore.policy.value_head import explained_variance, moments, ridge_fit, ridge_solve, sample_moments

# Four points on the axes; weights 2, 2, 1, 1 (W = 6). Means: x = (0, 0), y = 5.
# Cov_xx = diag(4/6, 2/6), Cov_xy = (4/6, 4/6), Var_y = (1 + 1 + 4 + 4 weighted) = 12/6 = 2.
X = torch.tensor([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
Y = torch.tensor([6.0, 4.0, 7.0, 3.0])
U = torch.tensor([2.0, 2.0, 1.0, 1.0])


def test_ridge_fit_without_penalty_recovers_the_exact_linear_map():
    weight, bias = ridge_fit(X, Y, U, l2=0.0)  # y = 5 + x1 + 2 x2 exactly
    assert weight.tolist() == pytest.approx([1.0, 2.0]) and bias == pytest.approx(5.0)
    assert explained_variance(moments(X, Y, U), weight) == pytest.approx(1.0)


def test_ridge_penalty_is_l2_times_the_mean_variance_of_a_dimension_and_spares_the_bias():
    # lambda = 1 * mean(4/6, 2/6) = 1/2: w1 = (4/6) / (4/6 + 1/2) = 4/7, w2 = (4/6) / (2/6 + 1/2) = 4/5
    weight, bias = ridge_fit(X, Y, U, l2=1.0)
    assert weight.tolist() == pytest.approx([4 / 7, 4 / 5]) and bias == pytest.approx(5.0)
    # residuals +-3/7 (weight 2 each), +-6/5 (weight 1 each): Var = (4 * 9/49 + 2 * 36/25) / 6 = 738/1225
    assert explained_variance(moments(X, Y, U), weight) == pytest.approx(1 - (738 / 1225) / 2)


def test_unweighted_the_same_points_give_the_unweighted_answer():
    # weights 1: Cov_xx = diag(1/2, 1/2), Cov_xy = (1/2, 1), lambda = 1/2
    weight, _ = ridge_fit(X, Y, torch.ones(4), l2=1.0)
    assert weight.tolist() == pytest.approx([0.5, 1.0])


def test_without_penalty_ridge_fit_equals_numpy_weighted_least_squares():
    rng = np.random.default_rng(0)
    x, y, u = rng.normal(size=(40, 3)) * [1.0, 10.0, 0.1], rng.normal(size=40), rng.uniform(0.1, 2.0, size=40)
    design = np.hstack([x, np.ones((40, 1))]) * np.sqrt(u)[:, None]
    expected = np.linalg.lstsq(design, y * np.sqrt(u), rcond=None)[0]
    weight, bias = ridge_fit(torch.tensor(x), torch.tensor(y), torch.tensor(u), l2=0.0)
    np.testing.assert_allclose([*weight.tolist(), bias], expected, rtol=1e-9, atol=1e-12)


def test_the_penalty_is_scale_free():
    rng = np.random.default_rng(1)
    x, y, u = (torch.tensor(a) for a in (rng.normal(size=(30, 4)), rng.normal(size=30), rng.uniform(size=30)))
    weight, bias = ridge_fit(x, y, u, l2=0.1)
    scaled, scaled_bias = ridge_fit(100.0 * x, y, u, l2=0.1)
    np.testing.assert_allclose(scaled.numpy() * 100.0, weight.numpy(), rtol=1e-9)
    assert scaled_bias == pytest.approx(bias)


def test_pooled_moments_give_the_same_fit_as_all_the_data_at_once():
    rng = np.random.default_rng(2)
    x, y, u = (torch.tensor(a) for a in (rng.normal(size=(20, 3)), rng.normal(size=20), rng.uniform(size=20)))
    whole = ridge_solve(moments(x, y, u), 0.05)
    pooled = ridge_solve(moments(x[:7], y[:7], u[:7]) + moments(x[7:], y[7:], u[7:]), 0.05)
    np.testing.assert_allclose(pooled[0].numpy(), whole[0].numpy(), rtol=1e-10)
    assert pooled[1] == pytest.approx(whole[1])


def test_sample_moments_give_every_token_its_samples_target_and_weight_one_over_its_length():
    hidden = torch.arange(2 * 3 * 2, dtype=torch.float32).reshape(2, 3, 2)  # (B=2, T=3, H=2)
    mask = torch.tensor([[True, False, False], [True, True, True]])
    targets = torch.tensor([1.0, -2.0])
    got = sample_moments(hidden, mask, targets)
    expected = moments(hidden[mask], torch.tensor([1.0, -2.0, -2.0, -2.0]), torch.tensor([1.0, 1 / 3, 1 / 3, 1 / 3]))
    assert float(got.weight) == pytest.approx(2.0)  # each sample counts once
    for a, b in zip(got.fields(), expected.fields(), strict=True):
        torch.testing.assert_close(a, b)


def test_constant_targets_give_a_constant_head_and_nan_explained_variance():
    weight, bias = ridge_fit(X, torch.full((4,), 0.3), U)
    assert weight.abs().max() < 1e-12 and bias == pytest.approx(0.3)
    assert math.isnan(explained_variance(moments(X, torch.full((4,), 0.3), U), weight))


def test_no_data_and_a_negative_penalty_are_errors():
    with pytest.raises(ValueError, match="no weighted data"):
        ridge_fit(X, Y, torch.zeros(4))
    with pytest.raises(ValueError, match="l2"):
        ridge_fit(X, Y, U, l2=-1.0)


# ---- Policy.fit_value_head ---------------------------------------------------------------------------

CONFIG = PolicyConfig(max_new_tokens=6, batch_size=2, stop=())  # 5 samples: three forward batches
PROMPTS = ["def add(a, b):\n", "x = ", 'def double(x: int) -> int:\n    """Twice x."""\n', "y", "```python\n"]
TARGETS = [0.0, 1.0, 1.0, 0.25, 0.0]  # terminal rewards, unrelated to anything the model computes


def value_states(policy: Policy, prompt: tuple[int, ...], completion: tuple[int, ...]) -> torch.Tensor:
    """(T, H) final hidden states of prompt + completion[:t], t = 0..T-1, from one unpadded pass."""
    with torch.no_grad():
        if policy.is_encoder_decoder:
            start = policy.model.config.decoder_start_token_id
            out = policy.model(input_ids=torch.tensor([prompt]), decoder_input_ids=torch.tensor([[start, *completion]]),
                               output_hidden_states=True)
            return out.decoder_hidden_states[-1][0, :-1]
        out = policy.model(input_ids=torch.tensor([prompt + completion]), output_hidden_states=True)
        return out.hidden_states[-1][0, len(prompt) - 1: -1]


def weighted_var(a: np.ndarray, u: np.ndarray) -> float:
    return float(np.average((a - np.average(a, weights=u)) ** 2, weights=u))


def sampled(policy: Policy) -> tuple[list[tuple[int, ...]], list[tuple[int, ...]]]:
    completions = policy.generate(PROMPTS, seed=3)
    return [c.prompt_ids for c in completions], [c.completion_ids[: 2 + i] for i, c in enumerate(completions)]


@pytest.mark.parametrize("kind", ["gpt2", "t5"])
def test_fit_value_head_is_the_ridge_fit_of_the_states_score_reads_with_weights_one_over_length(tiny_dirs, kind):
    policy = Policy.from_pretrained(tiny_dirs[kind], CONFIG)
    prompts, completions = sampled(policy)  # completions of 2..6 tokens
    ev = policy.fit_value_head(prompts, completions, TARGETS, l2=0.05)
    states = [value_states(policy, p, c) for p, c in zip(prompts, completions, strict=True)]
    weights = torch.cat([torch.full((len(s),), 1.0 / len(s)) for s in states])
    targets = torch.cat([torch.full((len(s),), t) for s, t in zip(states, TARGETS, strict=True)])
    weight, bias = ridge_fit(torch.cat(states), targets, weights, l2=0.05)
    np.testing.assert_allclose(policy.value_head.linear.weight[0].detach().numpy(), weight.numpy(), atol=1e-4)
    assert float(policy.value_head.linear.bias.detach()) == pytest.approx(bias, abs=1e-4)
    with torch.no_grad():
        values = policy.score(prompts, completions).values
    mask = torch.tensor([[t < len(c) for t in range(values.shape[1])] for c in completions])
    residual, u = (targets - values[mask].double()).numpy(), weights.double().numpy()
    assert math.isfinite(ev) and ev <= 1.0
    assert ev == pytest.approx(1 - weighted_var(residual, u) / weighted_var(targets.double().numpy(), u), abs=1e-4)


@pytest.mark.parametrize("kind", ["llama", "t5"])
def test_after_fitting_the_first_value_is_w_dot_h_plus_b_of_the_prompt_state(tiny_dirs, kind):
    policy = Policy.from_pretrained(tiny_dirs[kind], CONFIG)
    prompts, completions = sampled(policy)
    policy.fit_value_head(prompts, completions, TARGETS)
    w, b = policy.value_head.linear.weight[0].detach(), float(policy.value_head.linear.bias.detach())
    assert w.abs().sum() > 0  # the head really changed from its zero start
    with torch.no_grad():
        values = policy.score(prompts, completions).values
    for row, (p, c) in enumerate(zip(prompts, completions, strict=True)):
        assert float(values[row, 0]) == pytest.approx(float(value_states(policy, p, c)[0] @ w) + b, abs=1e-4)


def test_fitting_constant_targets_predicts_the_constant_and_reports_nan(tiny_dirs):
    policy = Policy.from_pretrained(tiny_dirs["qwen2"], CONFIG)
    prompts, completions = sampled(policy)
    assert math.isnan(policy.fit_value_head(prompts, completions, [0.5] * len(prompts)))
    with torch.no_grad():
        values = policy.score(prompts, completions).values
    assert torch.allclose(values, torch.full_like(values, 0.5), atol=1e-5)


def test_fit_value_head_rejects_mismatched_lengths(tiny_dirs):
    policy = Policy.from_pretrained(tiny_dirs["gpt2"], CONFIG)
    with pytest.raises(ValueError, match="targets"):
        policy.fit_value_head([[1, 2]], [[3]], [0.0, 1.0])
