"""Re-evaluating stored trajectories under the current weights, differentiably (the learner's input).

`score_batch` runs one teacher-forced forward pass over prompt + completion and returns, per
completion token, the log-prob and entropy of the sampling distribution (the same temperature/top-p
transform as sampling; `distribution`) and the value V(prompt + completion[:t]), plus each row's
pooled prompt and code embeddings (detached). At the weights that sampled a trajectory these equal
its behaviour log-probs, entropies, values and embeddings (up to float error).

Layout: decoder-only models see left-padded prompts followed by right-padded completions (as in
sampling, so positions match); the code embedding pools the hidden states at the completion tokens'
own positions. Encoder-decoders see the prompt in the encoder and [start] + completion in the
decoder: positions 0..T-1 give the logits and values, positions 1..T (each completion token fed)
the code embedding. Outputs are right-padded (B, T) with `mask` True on the completion tokens.

Limits: logits for the B x T completion positions are materialised in float32 (B * T * V * 4 bytes);
split large batches. With top-p < 1 a stored token outside the current nucleus is kept in it, so its
log-prob stays finite (at the sampling weights it is inside anyway). Gradients flow to the model
and the value head unless the caller disables them; dropout follows the model's train/eval mode.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from cosmocore.policy import distribution
from cosmocore.policy.backends import accepts, core_model, left_pad, masked_mean, positions, right_pad
from cosmocore.policy.value_head import ValueHead


@dataclass(frozen=True)
class Scores:
    """Per-token quantities of B stored completions under the current weights, right-padded to T."""

    logp: torch.Tensor  # (B, T) nats: log-prob of each completion token under the sampling distribution
    entropy: torch.Tensor  # (B, T) nats: entropy of the sampling distribution at each token
    values: torch.Tensor  # (B, T) reward units: V(prompt + completion[:t]); values[:, 0] = V(prompt)
    mask: torch.Tensor  # (B, T) bool: True on completion tokens
    prompt_embedding: torch.Tensor  # (B, H) float32, detached: mean final hidden state over the prompt
    code_embedding: torch.Tensor  # (B, H) float32, detached: mean final hidden state over the completion


@dataclass(frozen=True)
class Forward:
    """One teacher-forced pass, cut to what scoring and value fitting read."""

    logits: torch.Tensor  # (B, T, V) logits predicting each completion token
    hidden: torch.Tensor  # (B, T, H) final hidden states the value head reads: state before each token
    mask: torch.Tensor  # (B, T) bool: True on completion tokens
    prompt_embedding: torch.Tensor  # (B, H) float32, detached (the encoder's, for encoder-decoders)
    code_embedding: torch.Tensor  # (B, H) float32, detached


def _pooled(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return masked_mean(hidden.detach(), mask)


def _decoder_only(model: Any, prompts: Sequence[Sequence[int]], completions: Sequence[Sequence[int]],
                  pad_id: int, device: torch.device) -> Forward:
    p_ids, p_mask = left_pad(prompts, pad_id, device)
    c_ids, c_mask = right_pad(completions, pad_id, device)
    ids, mask = torch.cat([p_ids, c_ids], dim=1), torch.cat([p_mask, c_mask], dim=1)
    width, span = p_ids.shape[1], c_ids.shape[1]
    extra = {"logits_to_keep": span + 1} if accepts(model, "logits_to_keep") else {}
    out = model(input_ids=ids, attention_mask=mask, position_ids=positions(mask), use_cache=False,
                output_hidden_states=True, return_dict=True, **extra)
    hidden = out.hidden_states[-1]  # (B, P + T, H)
    return Forward(logits=out.logits[:, -(span + 1):-1], hidden=hidden[:, width - 1: width - 1 + span],
                   mask=c_mask.bool(), prompt_embedding=_pooled(hidden[:, :width], p_mask),
                   code_embedding=_pooled(hidden[:, width:], c_mask))


def _encoder_decoder(model: Any, prompts: Sequence[Sequence[int]], completions: Sequence[Sequence[int]],
                     pad_id: int, device: torch.device) -> Forward:
    start = core_model(model).config.decoder_start_token_id
    start = pad_id if start is None else start
    p_ids, p_mask = right_pad(prompts, pad_id, device)
    d_ids, d_mask = right_pad([[start, *c] for c in completions], pad_id, device)  # (B, T + 1)
    out = model(input_ids=p_ids, attention_mask=p_mask, decoder_input_ids=d_ids, decoder_attention_mask=d_mask,
                use_cache=False, output_hidden_states=True, return_dict=True)
    decoded, c_mask = out.decoder_hidden_states[-1], d_mask[:, 1:]  # (B, T + 1, H); (B, T)
    span = c_mask.shape[1]
    return Forward(logits=out.logits[:, :span], hidden=decoded[:, :span], mask=c_mask.bool(),
                   prompt_embedding=_pooled(out.encoder_last_hidden_state, p_mask),
                   code_embedding=_pooled(decoded[:, 1:], c_mask))


def forward_pass(model: Any, prompts: Sequence[Sequence[int]], completions: Sequence[Sequence[int]], *,
                 is_encoder_decoder: bool, pad_id: int, device: torch.device) -> Forward:
    """The teacher-forced pass over prompt + completion token id lists (see the module docstring)."""
    if len(prompts) != len(completions):
        raise ValueError(f"{len(prompts)} prompts but {len(completions)} completions")
    forward = _encoder_decoder if is_encoder_decoder else _decoder_only
    return forward(model, prompts, completions, pad_id, device)


def score_batch(model: Any, head: ValueHead, prompts: Sequence[Sequence[int]], completions: Sequence[Sequence[int]],
                *, is_encoder_decoder: bool, pad_id: int, device: torch.device, temperature: float,
                top_p: float) -> Scores:
    """Log-probs, entropies and values of each stored completion token, and each row's pooled
    embeddings, from one forward pass (see the module docstring)."""
    passed = forward_pass(model, prompts, completions, is_encoder_decoder=is_encoder_decoder, pad_id=pad_id,
                          device=device)
    tokens, _ = right_pad(completions, pad_id, device)
    logprobs = distribution.sampling_logprobs(passed.logits, temperature, top_p, always_keep=tokens)
    return Scores(logp=distribution.token_logprob(logprobs, tokens), entropy=distribution.entropy(logprobs),
                  values=head(passed.hidden), mask=passed.mask, prompt_embedding=passed.prompt_embedding,
                  code_embedding=passed.code_embedding)
