"""The policy objective against hand-computed numbers: clipped surrogate, truncation, value, k3, totals."""

import math

import pytest
import torch

from cosmocore.config import LearnConfig
from cosmocore.learn.gae import terminal_gae
from cosmocore.learn.ppo import TokenBatch, clipped_surrogate, k3_kl, objective, policy_loss, value_loss

LN = math.log


def _ratio_batch(weights=None):
    """Row 0: ratios (1.0, 1.5, pad), A (1, 1, 0). Row 1: ratios (5.0, 0.5, 1.0), A (-1, -1, 2)."""
    logp = torch.tensor([[LN(1.0), LN(1.5), 0.0], [LN(5.0), LN(0.5), LN(1.0)]], requires_grad=True)
    return TokenBatch(
        logp=logp,
        behaviour_logp=torch.zeros(2, 3),
        advantages=torch.tensor([[1.0, 1.0, 0.0], [-1.0, -1.0, 2.0]]),
        mask=torch.tensor([[True, True, False], [True, True, True]]),
        entropy=torch.zeros(2, 3),
        weights=weights,
    )


def test_clipped_surrogate_matches_hand_values_token_by_token():
    ratio = torch.tensor([1.0, 1.5, 0.5, 1.5, 5.0, 0.5])
    adv = torch.tensor([1.0, 1.0, 1.0, -1.0, -1.0, -1.0])
    # eps 0.2, cap 3: -min(min(r, 3) A, clip(r, .8, 1.2) A)
    #  r=1.0 A=+1: -min(1.0, 1.0)   = -1.0
    #  r=1.5 A=+1: -min(1.5, 1.2)   = -1.2   (clipped)
    #  r=0.5 A=+1: -min(0.5, 0.8)   = -0.5
    #  r=1.5 A=-1: -min(-1.5, -1.2) = +1.5
    #  r=5.0 A=-1: -min(-3.0, -1.2) = +3.0   (truncated at the cap; plain PPO would give 5.0)
    #  r=0.5 A=-1: -min(-0.5, -0.8) = +0.8   (clipped)
    expected = torch.tensor([-1.0, -1.2, -0.5, 1.5, 3.0, 0.8])
    assert torch.allclose(clipped_surrogate(ratio, adv, 0.2, 3.0), expected)
    assert clipped_surrogate(ratio, adv, 0.2, None)[4].item() == pytest.approx(5.0)


def test_truncated_and_clipped_tokens_get_no_gradient():
    logp = torch.tensor([LN(5.0), LN(1.5), LN(1.5), LN(1.0)], requires_grad=True)
    adv = torch.tensor([-1.0, 1.0, -1.0, 2.0])
    clipped_surrogate(torch.exp(logp), adv, 0.2, 3.0).sum().backward()
    # d/dlogp of -r A = -r A: token 0 truncated -> 0, token 1 clipped -> 0, token 2: +1.5, token 3: -2.0
    assert torch.allclose(logp.grad, torch.tensor([0.0, 0.0, 1.5, -2.0]))


def test_policy_loss_averages_tokens_per_sample_then_weights_samples():
    # per-token losses: row 0 (-1.0, -1.2) -> mean -1.1; row 1 (3.0, 0.8, -2.0) -> mean 0.6
    assert policy_loss(_ratio_batch(), 0.2, 3.0).item() == pytest.approx((-1.1 + 0.6) / 2)
    weighted = policy_loss(_ratio_batch(torch.tensor([0.5, 1.0])), 0.2, 3.0)
    assert weighted.item() == pytest.approx((0.5 * -1.1 + 1.0 * 0.6) / 2)  # 0.025
    # a zero weight removes the sample from the mean, as dropping it would
    assert policy_loss(_ratio_batch(torch.tensor([0.0, 1.0])), 0.2, 3.0).item() == pytest.approx(0.6)


def test_value_loss_is_half_the_clipped_squared_error():
    values = torch.tensor([[0.5, 0.2]])
    returns = torch.tensor([[1.0, 0.0]])
    old = torch.zeros(1, 2)
    mask = torch.ones(1, 2, dtype=torch.bool)
    # token 0: max((0.5-1)^2 = 0.25, (0 + clip(0.5, +-0.2) - 1)^2 = 0.64) = 0.64; token 1: max(0.04, 0.04)
    assert value_loss(values, returns, mask, None, old, 0.2).item() == pytest.approx(0.5 * (0.64 + 0.04) / 2)
    assert value_loss(values, returns, mask).item() == pytest.approx(0.5 * (0.25 + 0.04) / 2)


def test_k3_kl_is_zero_on_agreement_and_matches_hand_value():
    logp = torch.tensor([LN(0.5), LN(0.3)])
    ref = torch.tensor([LN(0.25), LN(0.3)])
    # x = ln(0.25 / 0.5) = -ln 2: exp(x) - x - 1 = 0.5 + 0.693147 - 1 = 0.193147
    assert torch.allclose(k3_kl(logp, ref), torch.tensor([0.193147, 0.0]), atol=1e-6)


def test_objective_combines_the_terms_with_their_coefficients():
    batch = TokenBatch(
        logp=torch.tensor([[LN(0.5), LN(0.3)]]),
        behaviour_logp=torch.tensor([[LN(0.5), LN(0.3)]]),  # ratio 1: policy loss = mean(-1, +1) = 0
        advantages=torch.tensor([[1.0, -1.0]]),
        mask=torch.ones(1, 2, dtype=torch.bool),
        entropy=torch.tensor([[1.0, 2.0]]),  # 1.5 nats
        values=torch.tensor([[0.5, 0.2]]),
        returns=torch.tensor([[1.0, 0.0]]),  # value loss 0.0725 (unclipped: no old values)
        ref_logp=torch.tensor([[LN(0.25), LN(0.3)]]),  # k3 mean (0.193147 + 0) / 2
    )
    config = LearnConfig(vf_coef=0.5, ent_coef=0.01, kl_coef=0.1)
    out = objective(batch, config)
    assert out.policy_loss.item() == pytest.approx(0.0, abs=1e-7)
    assert out.value_loss.item() == pytest.approx(0.0725)
    assert out.entropy.item() == pytest.approx(1.5)
    assert out.kl_ref.item() == pytest.approx(0.0965735, abs=1e-6)
    assert out.loss.item() == pytest.approx(0.5 * 0.0725 - 0.01 * 1.5 + 0.1 * 0.0965735, abs=1e-6)


def test_objective_without_values_has_no_value_term_and_reports_ratio_diagnostics():
    out = objective(_ratio_batch(), LearnConfig(clip_eps=0.2, is_cap=3.0, ent_coef=0.0))
    assert out.value_loss.item() == 0.0 and out.kl_ref.item() == 0.0
    assert out.loss.item() == pytest.approx(-0.25)
    # valid ratios 1.0, 1.5, 5.0, 0.5, 1.0: outside [0.8, 1.2]: 3 of 5; above the cap 3: 1 of 5
    assert out.clip_fraction.item() == pytest.approx(0.6)
    assert out.truncated_fraction.item() == pytest.approx(0.2)
    # k3 of KL(mu || pi): r - 1 - ln r = 0, 0.094535, 2.390562, 0.193147, 0 -> mean 0.535649
    assert out.approx_kl.item() == pytest.approx(0.535649, abs=1e-5)
    stats = out.stats(stale_dropped=1, confidence_variance=0.05)
    assert (stats.samples, stats.stale_dropped, stats.confidence_variance) == (2, 1, 0.05)
    assert stats.metrics()["clip_fraction"] == pytest.approx(0.6)
    assert stats.loss == pytest.approx(-0.25)


def test_objective_gradient_reaches_logp_values_and_entropy():
    batch = TokenBatch(
        logp=torch.zeros(1, 2, requires_grad=True),
        behaviour_logp=torch.zeros(1, 2),
        advantages=torch.tensor([[1.0, 1.0]]),
        mask=torch.ones(1, 2, dtype=torch.bool),
        entropy=torch.ones(1, 2, requires_grad=True),
        values=torch.zeros(1, 2, requires_grad=True),
        returns=torch.ones(1, 2),
    )
    objective(batch, LearnConfig(vf_coef=0.5, ent_coef=0.01)).loss.backward()
    # d/dlogp: -A r / 2 tokens = -0.5; d/dV: vf 0.5 * (V - R) / 2 tokens = -0.25; d/dH: -0.01 / 2 tokens
    assert torch.allclose(batch.logp.grad, torch.tensor([[-0.5, -0.5]]))
    assert torch.allclose(batch.values.grad, torch.tensor([[-0.25, -0.25]]))
    assert torch.allclose(batch.entropy.grad, torch.tensor([[-0.005, -0.005]]))


def test_a_few_ppo_steps_make_rewarded_completions_likelier_and_punished_ones_rarer():
    torch.manual_seed(0)
    logits = torch.zeros(2, 3, 4, requires_grad=True)  # (B, T, V): a toy policy, one row per prompt
    values = torch.zeros(2, 3, requires_grad=True)  # (B, T): a toy value head
    tokens = torch.tensor([[1, 2, 3], [0, 0, 1]])
    mask = torch.tensor([[1, 1, 1], [1, 1, 0]], dtype=torch.bool)
    reward = torch.tensor([1.0, -1.0])
    config = LearnConfig(lr=0.1, advantage_scale="none")
    optimizer = torch.optim.SGD([logits, values], lr=config.lr)

    def seq_logp():
        return torch.log_softmax(logits, -1).gather(-1, tokens.unsqueeze(-1)).squeeze(-1)  # (B, T) nats

    behaviour = seq_logp().detach()
    before = (behaviour * mask).sum(-1)
    for _ in range(3):
        logp = seq_logp()
        adv = terminal_gae(reward, values, mask, config.gamma, config.gae_lambda)
        entropy = -(torch.softmax(logits, -1) * torch.log_softmax(logits, -1)).sum(-1)
        batch = TokenBatch(logp, behaviour, adv.advantages, mask, entropy, values=values, returns=adv.returns)
        optimizer.zero_grad()
        objective(batch, config).loss.backward()
        optimizer.step()
    after = (seq_logp().detach() * mask).sum(-1)
    assert after[0] > before[0] and after[1] < before[1]
