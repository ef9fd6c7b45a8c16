"""One config dataclass per stage; every field has a type, a safe default and a one-line doc with its unit.

Stages receive their own record and nothing else. Later issues add the policy, buffer and learner
configs here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal

from cosmocore.errors import InputError

SPARK_UID_OFFSET = 5000  # a worker's Spark host runs as its sample uid + this


@dataclass(frozen=True)
class SandboxConfig:
    """How generated code is executed (see `cosmocore.sandbox` for what each layer protects)."""

    timeout_s: float = 10.0  # wall-clock deadline per sample, kept from outside the sample
    memory_mb: int = 1024  # address-space limit of the candidate process
    workers: int = 0  # fork servers running samples in parallel; 0 = one per CPU core
    output_limit_bytes: int = 64 * 1024  # stdout+stderr kept per sample; the rest is read and dropped
    max_processes: int = 64  # processes/threads per sample uid (RLIMIT_NPROC)
    max_open_files: int = 256  # file descriptors per process (RLIMIT_NOFILE)
    max_file_mb: int = 64  # largest file a sample may write (RLIMIT_FSIZE)
    tmpfs_mb: int = 128  # size of the sample's private /tmp (and /dev/shm)
    uid_base: int = 61000  # a sample runs as uid uid_base + its worker's index (when started as root)
    hide_paths: tuple[str, ...] = ("/root", "/home")  # covered by empty mounts inside the sandbox
    spark_driver_memory_mb: int = 1024  # heap of each worker's Spark JVM (started on the first Spark sample)
    spark_start_timeout_s: float = 180.0  # how long a Spark JVM may take to start and warm up
    spark_restart_every: int = 1000  # Spark samples a JVM serves before a fresh one replaces it
    spark_cache_entries: int = 100_000  # verdicts kept for identical (program, Spark task) pairs; 0 = off

    def __post_init__(self) -> None:
        checks = {
            "timeout_s": self.timeout_s > 0,
            "memory_mb": self.memory_mb >= 64,
            "workers": self.workers >= 0,
            "output_limit_bytes": self.output_limit_bytes >= 0,
            "max_processes": self.max_processes >= 1,
            "max_open_files": self.max_open_files >= 16,
            "max_file_mb": self.max_file_mb >= 1,
            "tmpfs_mb": self.tmpfs_mb >= 1,
            "uid_base": 1000 <= self.uid_base <= 2**31,
            "spark_driver_memory_mb": self.spark_driver_memory_mb >= 256,
            "spark_start_timeout_s": self.spark_start_timeout_s > 0,
            "spark_restart_every": self.spark_restart_every >= 1,
            "spark_cache_entries": self.spark_cache_entries >= 0,
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            raise InputError(f"invalid sandbox setting {bad[0]}={getattr(self, bad[0])!r}")

    @property
    def worker_count(self) -> int:
        return self.workers or os.cpu_count() or 1

    @property
    def sample_uids(self) -> range:
        """The uids samples run as, one per worker (when started as root)."""
        return range(self.uid_base, self.uid_base + self.worker_count)

    @property
    def spark_uids(self) -> range:
        """The uids the workers' Spark hosts run as (sample uid + 5000, when started as root)."""
        return range(self.uid_base + SPARK_UID_OFFSET, self.uid_base + SPARK_UID_OFFSET + self.worker_count)


@dataclass(frozen=True)
class RewardConfig:
    """How an execution verdict becomes a reward (DESIGN 1: CodeRL-style by default)."""

    scheme: Literal["coderl", "pass_fraction"] = "coderl"  # pass_fraction = the paper's 0..1 reward
    passed: float = 1.0  # reward of a program that passes every test
    wrong_answer_base: float = -0.3  # wrong answer: base + wrong_answer_slope x fraction of tests passed
    wrong_answer_slope: float = 0.3  # reward per unit fraction of tests passed, for a wrong answer
    runtime_error: float = -0.6  # runtime error, timeout, memory limit or crash
    name_error: float = -0.8  # a hallucinated name, attribute, module or import
    syntax_error: float = -1.0  # the program does not parse

    def __post_init__(self) -> None:
        if self.scheme not in ("coderl", "pass_fraction"):
            raise InputError(f"invalid reward setting scheme={self.scheme!r} (choose coderl or pass_fraction)")


def _reject_first_invalid(stage: str, config: object, checks: dict[str, bool]) -> None:
    """Raise InputError naming the first field whose check failed (one line, value included)."""
    bad = [name for name, ok in checks.items() if not ok]
    if bad:
        raise InputError(f"invalid {stage} setting {bad[0]}={getattr(config, bad[0])!r}")


@dataclass(frozen=True)
class AffectConfig:
    """The affective tagger: shape, training and its targets (see `cosmocore.affect`, docs/learner.md)."""

    proj_dim: int = 512  # width the concatenated input is projected to when it differs (the paper's 512)
    hidden: int = 128  # hidden units of the MLP (the paper's 128)
    lr: float = 3e-3  # Adam learning rate of the tagger's own optimizer, per step (it must track the policy)
    l2: float = 1e-4  # weight of the sum of squared MLP weights in the tagger loss (biases excluded)
    arousal_loss_weight: float = 1.0  # weight of the arousal MSE relative to the valence MSE
    success_valence: float = 0.0  # scold label of a passing program, in [-1, 1] (0: routine passes prunable)
    scold_file: str = ""  # human scold labels, jsonl of {task, code, label in [-1, 1]}; "" = status labels only
    steps: int = 8  # tagger Adam steps per wake batch (each over the batch and the recent examples)
    memory: int = 256  # most recent tagged examples (earlier batches) every step also fits, examples
    arousal_decay: float = 0.99  # per-batch decay of the running mean of TD^2 (the arousal scale)
    arousal_width: float = 1.5  # |TD| that maps to arousal 1, in units of the running RMS of TD

    def __post_init__(self) -> None:
        checks = {
            "proj_dim": self.proj_dim >= 1,
            "hidden": self.hidden >= 1,
            "lr": self.lr > 0,
            "l2": self.l2 >= 0,
            "arousal_loss_weight": self.arousal_loss_weight >= 0,
            "steps": self.steps >= 1,
            "memory": self.memory >= 0,
            "success_valence": -1.0 <= self.success_valence <= 1.0,
            "arousal_decay": 0.0 <= self.arousal_decay < 1.0,
            "arousal_width": self.arousal_width > 0,
        }
        _reject_first_invalid("affect", self, checks)


@dataclass(frozen=True)
class LearnConfig:
    """The learners (PPO, GRPO), the nocturnal phase and the meta-gradient on pruning (docs/learner.md)."""

    algorithm: Literal["ppo", "grpo"] = "ppo"  # ppo: value head + GAE (the paper's base); grpo: group baseline
    lr: float = 1e-5  # Adam learning rate of the policy, per step (the paper's)
    value_lr: float = 1e-4  # Adam learning rate of the value head (larger chases the rewards' noise: docs/learner.md)
    value_warmup_rollouts: int = 4  # wake-sized rollouts executed before step 1 to fit the critic and the tagger
    value_warmup_l2: float = 10.0  # ridge strength of the warm-up fit, relative to the mean hidden-state variance
    critic_weight: float = 1.0  # the critic's worth, in attempts, when pooled with a prompt's other attempts
    #                             into the expectation behind TD; 0 = estimated from the run (posterior weight)
    ppo_epochs: int = 1  # passes over each wake batch
    minibatch_size: int = 8  # trajectories per gradient step in the wake phase
    gamma: float = 1.0  # discount per completion token of the value head's targets
    gae_lambda: float = 1.0  # lambda of the value head's TD(lambda) targets (1: every token's target is the reward)
    clip_eps: float = 0.2  # PPO ratio clip: ratios outside [1 - eps, 1 + eps] give no gradient
    value_clip_eps: float = 0.2  # wake value clip around the value at sampling time, reward units; 0 = off
    vf_coef: float = 0.5  # weight of the value loss (reward units squared)
    ent_coef: float = 0.01  # weight of the entropy bonus, per nat
    kl_coef: float = 0.0  # weight of the k3 KL to the frozen starting policy, per nat; 0 = no reference kept
    advantage_scale: Literal["wake_rms", "none"] = "wake_rms"  # divide advantages by the latest wake batch's
    #                                     uncentred RMS (signs kept, replay included); none = reward units
    max_grad_norm: float = 1.0  # global gradient-norm clip of the policy update
    nocturnal_every: int = 4  # K: wake steps between nocturnal phases; 0 = no nocturnal phase
    nocturnal_minibatches: int = 4  # M: off-policy minibatches per nocturnal phase
    replay_batch_size: int = 16  # trajectories per nocturnal minibatch
    dream_fraction: float = 0.8  # share of a nocturnal minibatch from the Dream Queue; the rest is uniform
    replay: Literal["dream_mix", "priority", "uniform", "success", "on_policy"] = "dream_mix"  # how nocturnal
    #                                     batches are drawn; on_policy = from the latest wake batch (more epochs)
    is_cap: float = 3.0  # truncation of the per-token importance ratio to the behaviour policy (> 1 + clip_eps)
    staleness_cap: int = 8  # wake steps (policy versions); replayed trajectories older than this are dropped
    confidence_source: Literal["token_prob", "value"] = "token_prob"  # what confidence variance is the std of
    confidence_threshold: float = 0.1  # confidence variance below this raises the prune thresholds
    meta_lr: float = 2.0  # step size of the meta-gradient on the prune thresholds; 0 = thresholds fixed
    meta_temperature: float = 0.05  # width of the soft prune indicator, valence / arousal units
    meta_max_step: float = 0.02  # largest change of a prune threshold per meta step
    prune_valence_max: float = 0.5  # ceiling of the |v| prune threshold (the Dream Queue starts at |v| > 0.5)
    prune_arousal_max: float = 0.7  # ceiling of the arousal prune threshold (the Dream Queue starts at a > 0.7)

    def __post_init__(self) -> None:
        checks = {
            "algorithm": self.algorithm in ("ppo", "grpo"),
            "lr": self.lr > 0,
            "value_lr": self.value_lr >= 0,
            "value_warmup_rollouts": self.value_warmup_rollouts >= 0,
            "value_warmup_l2": self.value_warmup_l2 >= 0,
            "critic_weight": self.critic_weight >= 0,
            "ppo_epochs": self.ppo_epochs >= 1,
            "minibatch_size": self.minibatch_size >= 1,
            "gamma": 0.0 <= self.gamma <= 1.0,
            "gae_lambda": 0.0 <= self.gae_lambda <= 1.0,
            "clip_eps": 0.0 < self.clip_eps < 1.0,
            "value_clip_eps": self.value_clip_eps >= 0,
            "vf_coef": self.vf_coef >= 0,
            "ent_coef": self.ent_coef >= 0,
            "kl_coef": self.kl_coef >= 0,
            "max_grad_norm": self.max_grad_norm > 0,
            "nocturnal_every": self.nocturnal_every >= 0,
            "nocturnal_minibatches": self.nocturnal_minibatches >= 0,
            "replay_batch_size": self.replay_batch_size >= 1,
            "dream_fraction": 0.0 <= self.dream_fraction <= 1.0,
            "replay": self.replay in ("dream_mix", "priority", "uniform", "success", "on_policy"),
            "advantage_scale": self.advantage_scale in ("wake_rms", "none"),
            "is_cap": self.is_cap > 1.0 + self.clip_eps,
            "staleness_cap": self.staleness_cap >= 0,
            "confidence_source": self.confidence_source in ("token_prob", "value"),
            "confidence_threshold": self.confidence_threshold >= 0,
            "meta_lr": self.meta_lr >= 0,
            "meta_temperature": self.meta_temperature > 0,
            "meta_max_step": self.meta_max_step >= 0,
            "prune_valence_max": 0.0 <= self.prune_valence_max <= 1.0,
            "prune_arousal_max": 0.0 <= self.prune_arousal_max <= 1.0,
        }
        _reject_first_invalid("learn", self, checks)

    @property
    def uniform_fraction(self) -> float:
        """Share of a nocturnal minibatch drawn uniformly from the whole buffer."""
        return 1.0 - self.dream_fraction


@dataclass(frozen=True)
class BufferConfig:
    """The CosmoCore replay buffer: priorities, Dream Queue, Prune Bin, eviction (see `cosmocore.buffer`)."""

    capacity: int = 1_000_000  # trajectories kept; when full, the lowest-priority item leaves first
    affect_weight: float = 0.6  # lambda in p = |TD| + lambda * |v| * a + eps (priority units per unit |v|*a)
    priority_eps: float = 1e-4  # eps in the priority, so every stored item can be drawn (priority units)
    alpha: float = 0.6  # sampling weight = p ** alpha (0 = uniform, 1 = proportional to priority)
    beta0: float = 0.4  # PER importance-sampling exponent at the first sampling call
    beta_steps: int = 100_000  # sampling calls over which beta rises linearly from beta0 to 1; 0 = beta0 always
    dream_valence: float = 0.5  # Dream Queue membership: |v| above this (valence units, 0..1) ...
    dream_arousal: float = 0.7  # ... and arousal above this (arousal units, 0..1); measured in every buffer
    protect_dream: bool = True  # full buffer: Dream Queue members leave last; False = eviction by priority alone
    prune: bool = True  # Prune Bin: delete low-impact items at insert and on priority update
    prune_valence: float = 0.2  # prunable: |v| below this (valence units, 0..1) ...
    prune_arousal: float = 0.3  # ... and arousal below this (arousal units, 0..1) ...
    prune_entropy: float = 0.3  # ... unless the item's normalised entropy exceeds this (nats/token / ln |V|, 0..1)
    rebuild_every: int = 10_000  # update() calls between full sum-tree rebuilds from the leaves; 0 = never
    eviction_pool: int = 16_384  # lowest-priority eviction candidates kept between O(capacity) scans (items)
    token_reserve: int = 256  # tokens per trajectory reserved in each token arena (address space; RAM once written)
    seed: int = 0  # seed of the buffer's own random generator (used when sampling gets no rng)

    def __post_init__(self) -> None:
        checks = {
            "capacity": 1 <= self.capacity < 2**31,
            "affect_weight": self.affect_weight >= 0,
            "priority_eps": self.priority_eps > 0,
            "alpha": self.alpha >= 0,
            "beta0": 0.0 <= self.beta0 <= 1.0,
            "beta_steps": self.beta_steps >= 0,
            "dream_valence": 0.0 <= self.dream_valence <= 1.0,
            "dream_arousal": 0.0 <= self.dream_arousal <= 1.0,
            "prune_valence": 0.0 <= self.prune_valence <= 1.0,
            "prune_arousal": 0.0 <= self.prune_arousal <= 1.0,
            "prune_entropy": 0.0 <= self.prune_entropy <= 1.0,
            "rebuild_every": self.rebuild_every >= 0,
            "eviction_pool": self.eviction_pool >= 1,
            "token_reserve": self.token_reserve >= 1,
            "seed": self.seed >= 0,
        }
        _reject_first_invalid("buffer", self, checks)


BODY_STOPS: tuple[str, ...] = ("\ndef ", "\nclass ", "\nif __name__", "\nprint(", "\n#", "\nassert ")
# text that ends a HumanEval-style function body: the next top-level statement (Codex's stop list)


@dataclass(frozen=True)
class PolicyConfig:
    """Which model is trained and how it samples (see `cosmocore.policy`)."""

    model: str = "default"  # a local HF checkpoint dir or hub id; "default" = the embedded model (built on first use)
    cache_dir: str = ""  # where the embedded model is cached; "" = $COSMOCORE_CACHE or ~/.cache/cosmocore
    temperature: float = 1.0  # sampling temperature of rollouts; 0 = greedy (log-prob and entropy then 0)
    top_p: float = 1.0  # nucleus mass of rollouts (1 = full distribution)
    max_new_tokens: int = 160  # completion length cap, tokens
    lora_rank: int = 0  # LoRA adapters of this rank instead of full fine-tuning; 0 = full
    lora_alpha: float = 16.0  # LoRA scale numerator (the adapter update is scaled by alpha / rank)
    lora_targets: tuple[str, ...] = ()  # module names LoRA adapts; () = PEFT's default for the architecture
    stop: tuple[str, ...] = BODY_STOPS  # text that ends a completion (cut from its text; its tokens are kept)
    batch_size: int = 16  # sequences sampled together (one KV cache); also the eval batch
    device: str = "auto"  # torch device; "auto" = cuda when present, else cpu
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"  # auto = bfloat16 on CUDA, float32 on CPU
    chat_template: bool = False  # wrap each prompt as a user turn with the tokenizer's chat template

    def __post_init__(self) -> None:
        checks = {
            "model": bool(self.model),
            "temperature": self.temperature >= 0,
            "top_p": 0.0 < self.top_p <= 1.0,
            "max_new_tokens": self.max_new_tokens >= 1,
            "lora_rank": self.lora_rank >= 0,
            "lora_alpha": self.lora_alpha > 0,
            "batch_size": self.batch_size >= 1,
            "device": bool(self.device),
            "dtype": self.dtype in ("auto", "float32", "bfloat16", "float16"),
        }
        _reject_first_invalid("policy", self, checks)


@dataclass(frozen=True)
class PretrainConfig:
    """The embedded default model's warm start (see `cosmocore.embedded`, `cosmocore.policy.pretrain`)."""

    world: str = "miniworld-py"  # the world whose train split is the corpus
    seed: int = 0  # initialisation, noise draws and batch order
    world_seeds: int = 6  # world seeds 0..N-1 drawn for the corpus: fresh tasks each epoch (train splits only)
    noise: float = 0.25  # share of examples whose body is an injected bug instead of the reference
    vocab_size: int = 4096  # BPE vocabulary, tokens (the end-of-text token included)
    hidden_size: int = 128  # model width
    layers: int = 4  # transformer blocks
    heads: int = 4  # attention heads (hidden_size must divide by it)
    max_positions: int = 1024  # context length the model declares, tokens
    steps: int = 2400  # optimizer steps
    batch_size: int = 16  # examples per step
    lr: float = 3e-3  # peak AdamW learning rate
    warmup_steps: int = 50  # linear warm-up, steps; then cosine decay to 10% of lr
    weight_decay: float = 0.1  # AdamW decoupled weight decay
    prompt_loss_weight: float = 0.3  # loss weight of prompt tokens relative to body tokens
    threads: int = 0  # torch threads while training; 0 = one per core this process may use (then restored)

    def __post_init__(self) -> None:
        checks = {
            "world": bool(self.world),
            "seed": self.seed >= 0,
            "world_seeds": self.world_seeds >= 1,
            "noise": 0.0 <= self.noise <= 1.0,
            "vocab_size": self.vocab_size >= 300,
            "hidden_size": self.hidden_size >= 8,
            "layers": self.layers >= 1,
            "heads": self.heads >= 1 and self.hidden_size % self.heads == 0,
            "max_positions": self.max_positions >= 64,
            "steps": self.steps >= 1,
            "batch_size": self.batch_size >= 1,
            "lr": self.lr > 0,
            "warmup_steps": self.warmup_steps >= 0,
            "weight_decay": self.weight_decay >= 0,
            "prompt_loss_weight": self.prompt_loss_weight >= 0,
            "threads": self.threads >= 0,
        }
        _reject_first_invalid("pretrain", self, checks)


@dataclass(frozen=True)
class RunConfig:
    """What a training run does, on which tasks, for how long (see `cosmocore.loop`)."""

    method: str = "cosmocore"  # a preset of `cosmocore.methods` (only the named mechanism differs)
    world: str = "miniworld-py"  # task world to train on ("" when `benchmark` is set)
    benchmark: str = ""  # a benchmark from `cosmocore.tasks` instead of a world (its problems are split 80/20)
    benchmark_path: str = ""  # the benchmark's data file, where it needs one
    world_seed: int = 0  # seed of the generated world (the tasks), fixed across methods and run seeds
    seed: int = 0  # seed of the run: task order, sampling, initialisation of the tagger and value head
    steps: int = 40  # wake steps
    prompts_per_step: int = 8  # training tasks drawn per wake step
    samples_per_prompt: int = 4  # completions per task per wake step (the GRPO group)
    train_tasks: int = 0  # size of the training task pool; 0 = the whole train split
    eval_every: int = 10  # wake steps between held-out evaluations; 0 = only at the end
    eval_tasks: int = 64  # held-out (test split) tasks per evaluation, greedy
    checkpoint_every: int = 5  # wake steps between checkpoints (a killed run redoes at most this many)
    tensorboard: bool = False  # also write TensorBoard scalars (needs the tensorboard package)
    torch_threads: int = 1  # torch intra-op threads; 0 = torch's default (1 is ~70x faster for small models
    #                         on a loaded 2-core machine: OpenMP threads wait on each other, not compute)

    def __post_init__(self) -> None:
        checks = {
            "method": bool(self.method),
            "world": bool(self.world) != bool(self.benchmark),
            "steps": self.steps >= 1,
            "prompts_per_step": self.prompts_per_step >= 1,
            "samples_per_prompt": self.samples_per_prompt >= 1,
            "train_tasks": self.train_tasks >= 0,
            "eval_every": self.eval_every >= 0,
            "eval_tasks": self.eval_tasks >= 1,
            "checkpoint_every": self.checkpoint_every >= 1,
            "torch_threads": self.torch_threads >= 0,
            "seed": self.seed >= 0,
            "world_seed": self.world_seed >= 0,
        }
        _reject_first_invalid("run", self, checks)

    @property
    def completions_per_step(self) -> int:
        """The environment budget of one wake step: executed completions."""
        return self.prompts_per_step * self.samples_per_prompt


@dataclass(frozen=True)
class TrainConfig:
    """A whole training run: one section per stage. Files and `--section.key value` overrides fill it."""

    run: RunConfig = RunConfig()
    policy: PolicyConfig = PolicyConfig()
    reward: RewardConfig = RewardConfig()
    sandbox: SandboxConfig = SandboxConfig()
    affect: AffectConfig = AffectConfig()
    buffer: BufferConfig = BufferConfig()
    learn: LearnConfig = LearnConfig()


@dataclass(frozen=True)
class ServeConfig:
    """`cosmocore serve`: the HTTP server's address, access and limits (see `cosmocore.serve`)."""

    host: str = "127.0.0.1"  # address to bind; any other than loopback needs a token
    port: int = 8000  # TCP port; 0 = any free port (the one taken is printed)
    token: str = ""  # bearer token every request but /healthz must carry; "" = none (loopback only)
    max_concurrency: int = 0  # requests in progress at once, past which 429 + Retry-After; 0 = 4 per sandbox worker
    max_body_kb: int = 4096  # largest request body, KiB (413 past it)
    max_items: int = 1024  # largest batch: completions per /get_reward or /v1/judge request (413 past it)
    deadline_s: float = 120.0  # wall-clock limit per request, seconds (504 past it); shutdown waits this long too
    retry_after_s: int = 1  # the Retry-After a 429 or 503 answer carries, seconds

    def __post_init__(self) -> None:
        checks = {
            "host": bool(self.host),
            "port": 0 <= self.port <= 65535,
            "max_concurrency": self.max_concurrency >= 0,
            "max_body_kb": self.max_body_kb >= 1,
            "max_items": self.max_items >= 1,
            "deadline_s": self.deadline_s > 0,
            "retry_after_s": self.retry_after_s >= 0,
        }
        _reject_first_invalid("serve", self, checks)
