"""Re-evaluating stored trajectories under the current weights, differentiably (the learner's input).

`score_batch` runs one teacher-forced forward pass over prompt + completion and returns, per
completion token, the log-prob and entropy of the sampling distribution (the same temperature/top-p
transform as sampling; `distribution`) and the value V(prompt + completion[:t]). At the weights that
sampled a trajectory these equal its behaviour log-probs, entropies and values (up to float error).

Layout: decoder-only models see left-padded prompts followed by right-padded completions (as in
sampling, so positions match); encoder-decoders see the prompt in the encoder and
[start] + completion[:-1] in the decoder. Outputs are right-padded (B, T) with `mask` True on the
completion tokens.

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
from cosmocore.policy.backends import accepts, core_model, left_pad, positions, right_pad
from cosmocore.policy.value_head import ValueHead


@dataclass(frozen=True)
class Scores:
    """Per-token quantities of B stored completions under the current weights, right-padded to T."""

    logp: torch.Tensor  # (B, T) nats: log-prob of each completion token under the sampling distribution
    entropy: torch.Tensor  # (B, T) nats: entropy of the sampling distribution at each token
    values: torch.Tensor  # (B, T) reward units: V(prompt + completion[:t]); values[:, 0] = V(prompt)
    mask: torch.Tensor  # (B, T) bool: True on completion tokens


def _decoder_only(model: Any, prompts: Sequence[Sequence[int]], completions: Sequence[Sequence[int]],
                  pad_id: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, T, V) logits and (B, T, H) hidden states at the positions that predict completion tokens."""
    p_ids, p_mask = left_pad(prompts, pad_id, device)
    c_ids, c_mask = right_pad(completions, pad_id, device)
    ids, mask = torch.cat([p_ids, c_ids], dim=1), torch.cat([p_mask, c_mask], dim=1)
    width, span = p_ids.shape[1], c_ids.shape[1]
    extra = {"logits_to_keep": span + 1} if accepts(model, "logits_to_keep") else {}
    out = model(input_ids=ids, attention_mask=mask, position_ids=positions(mask), use_cache=False,
                output_hidden_states=True, return_dict=True, **extra)
    logits = out.logits[:, -(span + 1):-1]
    hidden = out.hidden_states[-1][:, width - 1: width - 1 + span]
    return logits, hidden


def _encoder_decoder(model: Any, prompts: Sequence[Sequence[int]], completions: Sequence[Sequence[int]],
                     pad_id: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    start = core_model(model).config.decoder_start_token_id
    start = pad_id if start is None else start
    p_ids, p_mask = right_pad(prompts, pad_id, device)
    d_ids, d_mask = right_pad([[start, *c[:-1]] for c in completions], pad_id, device)
    out = model(input_ids=p_ids, attention_mask=p_mask, decoder_input_ids=d_ids, decoder_attention_mask=d_mask,
                use_cache=False, output_hidden_states=True, return_dict=True)
    return out.logits, out.decoder_hidden_states[-1]


def score_batch(model: Any, head: ValueHead, prompts: Sequence[Sequence[int]], completions: Sequence[Sequence[int]],
                *, is_encoder_decoder: bool, pad_id: int, device: torch.device, temperature: float,
                top_p: float) -> Scores:
    """Log-probs, entropies and values of each stored completion token (see the module docstring)."""
    if len(prompts) != len(completions):
        raise ValueError(f"{len(prompts)} prompts but {len(completions)} completions")
    forward = _encoder_decoder if is_encoder_decoder else _decoder_only
    logits, hidden = forward(model, prompts, completions, pad_id, device)
    tokens, mask = right_pad(completions, pad_id, device)
    logprobs = distribution.sampling_logprobs(logits, temperature, top_p, always_keep=tokens)
    return Scores(logp=distribution.token_logprob(logprobs, tokens), entropy=distribution.entropy(logprobs),
                  values=head(hidden), mask=mask.bool())
