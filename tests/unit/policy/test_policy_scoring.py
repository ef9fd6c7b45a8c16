"""What `Policy.score` reports besides the per-token numbers: pooled embeddings and the vocabulary width.

References are plain forward passes over one unpadded sequence, with none of the policy's code.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import tiny_models
import torch

from cosmocore.config import PolicyConfig
from cosmocore.policy import Policy

PROMPTS = ["def add(a, b):\n", 'def double(x: int) -> int:\n    """Twice x."""\n', "x", "```python\ndef f(xs):\n"]
CONFIG = PolicyConfig(max_new_tokens=8, batch_size=3, stop=())


@pytest.fixture(scope="module")
def policies(tiny_dirs) -> dict[str, Policy]:
    return {kind: Policy.from_pretrained(path, CONFIG) for kind, path in tiny_dirs.items()}


def direct_embeddings(policy: Policy, prompt: tuple[int, ...], completion: tuple[int, ...]) -> np.ndarray:
    """(2, H): mean final hidden state over the prompt (the encoder's for T5) and over the positions
    where the completion tokens are fed, from one unpadded forward pass."""
    with torch.no_grad():
        if policy.is_encoder_decoder:
            start = policy.model.config.decoder_start_token_id
            out = policy.model(input_ids=torch.tensor([prompt]), decoder_input_ids=torch.tensor([[start, *completion]]),
                               output_hidden_states=True)
            pooled = [out.encoder_last_hidden_state[0].mean(0), out.decoder_hidden_states[-1][0, 1:].mean(0)]
        else:
            hidden = policy.model(input_ids=torch.tensor([prompt + completion]), output_hidden_states=True)
            last = hidden.hidden_states[-1][0]
            pooled = [last[: len(prompt)].mean(0), last[len(prompt):].mean(0)]
    return torch.stack(pooled).numpy()


@pytest.mark.parametrize("kind", tiny_models.ARCHITECTURES)
def test_scored_embeddings_equal_the_ones_sampling_recorded(policies, kind):
    policy = policies[kind]
    completions = policy.generate(PROMPTS, seed=4)  # batches of 3: prompts of different lengths share one
    scores = policy.score([c.prompt_ids for c in completions], [c.completion_ids for c in completions])
    for pooled in (scores.prompt_embedding, scores.code_embedding):
        assert pooled.shape == (len(PROMPTS), policy.hidden_size) and pooled.dtype == torch.float32
        assert not pooled.requires_grad
    np.testing.assert_allclose(scores.prompt_embedding.numpy(), np.stack([c.prompt_embedding for c in completions]),
                               atol=1e-4)
    np.testing.assert_allclose(scores.code_embedding.numpy(), np.stack([c.code_embedding for c in completions]),
                               atol=1e-4)


@pytest.mark.parametrize("kind", tiny_models.ARCHITECTURES)
def test_padding_in_a_batch_of_different_lengths_does_not_change_the_embeddings(policies, kind):
    policy = policies[kind]
    prompts = [tuple(policy.encode_prompt(p)) for p in PROMPTS]
    completions = [tuple(range(5, 5 + 2 * i + 1)) for i in range(len(prompts))]  # 1, 3, 5, 7 tokens
    scores = policy.score(prompts, completions)
    for row, (prompt, completion) in enumerate(zip(prompts, completions, strict=True)):
        reference = direct_embeddings(policy, prompt, completion)
        np.testing.assert_allclose(scores.prompt_embedding[row].numpy(), reference[0], atol=1e-5)
        np.testing.assert_allclose(scores.code_embedding[row].numpy(), reference[1], atol=1e-5)


def test_vocab_size_is_the_width_of_the_logits_not_of_the_tokenizer(tiny_dirs, tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    padded = AutoModelForCausalLM.from_pretrained(tiny_dirs["llama"])
    padded.resize_token_embeddings(384, mean_resizing=False)  # an embedding matrix wider than the tokenizer
    padded.save_pretrained(tmp_path / "padded")
    AutoTokenizer.from_pretrained(tiny_dirs["llama"]).save_pretrained(tmp_path / "padded")
    for path, width in ((tiny_dirs["gpt2"], 320), (tiny_dirs["t5"], 320), (tmp_path / "padded", 384)):
        policy = Policy.from_pretrained(path, CONFIG)
        [c] = policy.generate(PROMPTS[:1], seed=0)
        with torch.no_grad():
            out = policy.model(input_ids=torch.tensor([c.prompt_ids]),
                               **({"decoder_input_ids": torch.tensor([[1]])} if policy.is_encoder_decoder else {}))
        assert policy.vocab_size == width == out.logits.shape[-1] and len(policy.tokenizer) == 320
        assert policy.max_entropy == pytest.approx(math.log(width))
        assert (c.entropy <= policy.max_entropy + 1e-5).all()
