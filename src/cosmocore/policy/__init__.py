"""The policy: any Hugging Face code model (causal LM or encoder-decoder such as CodeT5) as an RL policy.

    load_policy(PolicyConfig(model=DIR_OR_ID)) / Policy.from_pretrained(DIR_OR_ID) -> Policy
    policy.generate(prompts, config, seed=, entry_points=) -> [Completion]   (cosmocore.types)
    policy.score(prompt_ids, completion_ids) -> Scores (B, T) logp, entropy, values, mask (differentiable);
                                                  (B, H) prompt_embedding, code_embedding (detached)
    policy.fit_value_head(prompt_ids, completion_ids, rewards, l2=) -> explained variance (ridge fit of the head)
    policy.vocab_size, policy.max_entropy   width of the sampled distribution, ln of it (nats)
    policy.save_pretrained(DIR)   an ordinary HF checkpoint + value_head.safetensors beside it
    policy.version                policy updates so far (the learner increments it)

Modules, in the order the data flows: `sources` and `loading` (model, tokenizer, device, dtype, LoRA),
`text` (stop sequences, code extraction; no torch), `distribution` (temperature/top-p sampling
distribution, log-probs, entropy; pure), `backends` (one cached forward step, decoder-only or
encoder-decoder), `sampling` (the batched loop), `scoring` (teacher-forced re-evaluation),
`value_head` (the head, its ridge fit, its file), `model` (`Policy`), and `pretrain` (the supervised
warm start behind the embedded model).
Entropy everywhere is the Shannon entropy, in nats, of the distribution tokens are really drawn from
(after temperature and top-p). torch and transformers are imported on first use of these names.

Limits: one GPU or the CPU (no model parallelism); models that need their own code
(`trust_remote_code`) are not loaded; hub ids need network access.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cosmocore.config import PolicyConfig
    from cosmocore.policy.model import Policy

__all__ = ["BODY_STOPS", "Completion", "Policy", "Scores", "extract_code", "load_policy"]

_LAZY = {
    "Policy": "cosmocore.policy.model",
    "Scores": "cosmocore.policy.scoring",
    "extract_code": "cosmocore.policy.text",
    "BODY_STOPS": "cosmocore.config",
    "Completion": "cosmocore.types",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'cosmocore.policy' has no attribute {name!r}")
    return getattr(import_module(_LAZY[name]), name)


def load_policy(config: PolicyConfig | None = None, seed: int = 0, path: str | None = None) -> Policy:
    """The policy `config.model` names, or the checkpoint at `path` (a resumed run's) when given.

    "default" is CosmoCore's embedded model: built by `cosmocore.embedded` on first use and cached
    (`config.cache_dir`, else $COSMOCORE_CACHE, else ~/.cache/cosmocore). That is the one place the
    policy layer reaches outside itself, so that every caller can simply ask for "default".
    """
    from cosmocore.config import PolicyConfig
    from cosmocore.policy.sources import check_source

    config = config or PolicyConfig()
    name = path or config.model
    if name == "default":
        from cosmocore.embedded import default_model_dir

        name = str(default_model_dir(config.cache_dir or None))
    check_source(name)  # before torch is imported: a wrong path fails at once
    from cosmocore.policy.model import Policy

    return Policy.from_pretrained(name, config, seed=seed)
