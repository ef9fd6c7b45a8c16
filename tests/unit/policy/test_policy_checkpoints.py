"""Save / load: a policy is an ordinary Hugging Face checkpoint with its value head beside it."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch

from cosmocore.config import PolicyConfig
from cosmocore.errors import InputError
from cosmocore.policy import Policy, load_policy

CONFIG = PolicyConfig(max_new_tokens=6, batch_size=2, stop=())
PROMPTS = ["def add(a, b):\n", "x = "]


def logits_of(model, ids: list[int]) -> torch.Tensor:  # type: ignore[no-untyped-def]
    with torch.no_grad():
        return model(input_ids=torch.tensor([ids])).logits[0]


@pytest.mark.parametrize("kind", ["gpt2", "llama", "t5"])
def test_a_saved_policy_loads_back_with_its_value_head_version_and_samples(tiny_dirs, tmp_path, kind):
    policy = Policy.from_pretrained(tiny_dirs[kind], CONFIG)
    with torch.no_grad():
        policy.value_head.linear.weight.normal_()
        policy.value_head.linear.bias.fill_(0.25)
    policy.version = 3
    policy.save_pretrained(tmp_path / "ckpt")
    again = Policy.from_pretrained(tmp_path / "ckpt", CONFIG)
    assert again.version == 3
    assert torch.equal(again.value_head.linear.weight, policy.value_head.linear.weight)
    assert json.loads((tmp_path / "ckpt" / "cosmocore_policy.json").read_text())["policy_version"] == 3
    before, after = policy.generate(PROMPTS, seed=2), again.generate(PROMPTS, seed=2)
    for a, b in zip(before, after, strict=True):
        assert a.completion_ids == b.completion_ids
        np.testing.assert_allclose(a.values, b.values, atol=1e-6)


def test_a_saved_causal_policy_loads_with_plain_auto_model_for_causal_lm(tiny_dirs, tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    policy = Policy.from_pretrained(tiny_dirs["qwen2"], CONFIG)
    policy.save_pretrained(tmp_path / "ckpt")
    plain = AutoModelForCausalLM.from_pretrained(tmp_path / "ckpt")
    ids = policy.encode_prompt(PROMPTS[0])
    assert AutoTokenizer.from_pretrained(tmp_path / "ckpt")(PROMPTS[0])["input_ids"] == ids
    assert torch.allclose(logits_of(plain, ids), logits_of(policy.model, ids))


def test_a_hugging_face_model_without_a_value_head_gets_a_zero_head_and_version_zero(tiny_dirs):
    policy = Policy.from_pretrained(tiny_dirs["gpt2"], CONFIG)
    assert policy.version == 0 and policy.hidden_size == 32
    [c] = policy.generate(PROMPTS[:1])
    assert not c.values.any() and c.prompt_value == 0.0


def test_lora_trains_only_the_adapters_and_saves_a_merged_ordinary_checkpoint(tiny_dirs, tmp_path):
    from transformers import AutoModelForCausalLM

    config = dataclasses.replace(CONFIG, lora_rank=4, lora_targets=("q_proj", "v_proj"))
    policy = Policy.from_pretrained(tiny_dirs["llama"], config)
    names = [n for n, p in policy.model.named_parameters() if p.requires_grad]
    assert names and all("lora_" in n for n in names)
    assert len(policy.trainable_parameters()) == len(names) + 2  # + value head weight and bias
    with torch.no_grad():
        for name, p in policy.model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.5)  # LoRA B starts at zero: move it so the merge matters
    ids = policy.encode_prompt(PROMPTS[0])
    policy.save_pretrained(tmp_path / "merged")
    merged = AutoModelForCausalLM.from_pretrained(tmp_path / "merged")
    original = AutoModelForCausalLM.from_pretrained(tiny_dirs["llama"])
    assert torch.allclose(logits_of(merged, ids), logits_of(policy.model, ids), atol=1e-5)
    assert not torch.allclose(logits_of(original, ids), logits_of(policy.model, ids), atol=1e-3)


def test_load_policy_reads_a_resumed_checkpoint_path_over_the_configured_model(tiny_dirs):
    policy = load_policy(dataclasses.replace(CONFIG, model=str(tiny_dirs["gpt2"])), path=str(tiny_dirs["t5"]))
    assert policy.is_encoder_decoder


@pytest.mark.parametrize("name", ["/nonexistent/model-dir", "./also-missing", "~/no/such/model"])
def test_a_model_directory_that_does_not_exist_is_an_input_error(name):
    with pytest.raises(InputError, match="model directory not found"):
        load_policy(dataclasses.replace(CONFIG, model=name))


def test_a_file_or_a_folder_without_config_json_is_an_input_error(tmp_path):
    (tmp_path / "weights.bin").write_bytes(b"\0")
    with pytest.raises(InputError, match="is a file"):
        Policy.from_pretrained(tmp_path / "weights.bin", CONFIG)
    with pytest.raises(InputError, match=r"no config\.json"):
        Policy.from_pretrained(tmp_path, CONFIG)


def test_a_value_head_of_the_wrong_width_is_an_input_error(tiny_dirs, tmp_path):
    policy = Policy.from_pretrained(tiny_dirs["gpt2"], CONFIG)
    policy.save_pretrained(tmp_path / "ckpt")
    from safetensors.torch import save_file

    save_file({"weight": torch.zeros(1, 7), "bias": torch.zeros(1)}, str(tmp_path / "ckpt" / "value_head.safetensors"))
    with pytest.raises(InputError, match="value head width 7"):
        Policy.from_pretrained(tmp_path / "ckpt", CONFIG)


def test_chat_template_wraps_the_prompt_and_is_refused_without_one(tiny_dirs):
    chat = dataclasses.replace(CONFIG, chat_template=True)
    policy = Policy.from_pretrained(tiny_dirs["gpt2"], chat)
    with pytest.raises(InputError, match="no chat template"):
        policy.encode_prompt("hi")
    policy.tokenizer.chat_template = "{% for m in messages %}<pad>{{ m['content'] }}<pad>{% endfor %}"
    ids = policy.encode_prompt("x = ")
    assert ids[0] == ids[-1] == policy.tokenizer.pad_token_id
    assert policy.decode(ids) == "x = "
