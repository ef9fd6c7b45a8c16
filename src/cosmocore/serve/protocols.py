"""The protocols the server speaks, as pure functions between their JSON and CosmoCore's records.

OpenRLHF remote reward model (`POST /get_reward`; OpenRLHF's `SingleTurnAgentExecutor` since 0.10,
`remote_rm_fn_ray` before): the request is `{"query": [...], "prompts": [...], "labels": [...]}`, one
entry per sample, where `query` is the decoded prompt + response with special tokens kept
(`tokenizer.decode(prompt_ids + response_ids, skip_special_tokens=False)`), `prompts` the prompt text
the model was given and `labels` the dataset's `--label_key` column. CosmoCore reads them as:

- completion = the query after its prompt (compared exactly; if that fails, ignoring whitespace, which
  tokenizers may normalise), cut at the first end-of-text marker (`END_MARKERS`); a query that does not
  start with its prompt is refused (422), never guessed at;
- label = a task id (`"HumanEval/0"`, `"miniworld-py/12"`; other benchmarks with `--benchmark` and
  `--problems`), or a problem: a JSON object (a dataset row in any shape `cosmocore.integrations.rows`
  reads, or a `cosmocore.problem/1` object), or that object's JSON text;
- answer = `{"rewards": [...], "scores": [...], "extra_logs": {...}, "statuses": [...]}`: the reward under
  the server's `RewardConfig`, 1.0/0.0 for passed/not as the score (OpenRLHF's dynamic filtering reads
  it), numeric per-sample logs (`pass_fraction`, `duration_s`), and the statuses.

SandboxFusion (`POST /run_code`, the `sandbox-fusion` client's `RunCodeRequest`/`RunCodeResponse`):
python only; the run is isolation, not a verdict (see `cosmocore.serve`).
"""

from __future__ import annotations

import base64
import binascii
import posixpath
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cosmocore.config import SandboxConfig
from cosmocore.types import ScriptResult, ScriptTests

END_MARKERS = (  # end-of-text tokens of common chat and base models (the last one DeepSeek's)
    "<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|end_of_text|>", "<|end|>", "</s>", "<eos>", "<end_of_turn>",
    "<\uff5cend\u2581of\u2581sentence\uff5c>",
)


# ---- OpenRLHF ------------------------------------------------------------------------------------


def _prompt_end(query: str, prompt: str) -> int | None:
    """Where `prompt` ends in `query`: exactly, or else matching its characters but whitespace; None if not."""
    if query.startswith(prompt):
        return len(prompt)
    i = 0
    for char in prompt:
        if char.isspace():
            continue
        while i < len(query) and query[i].isspace():
            i += 1
        if i >= len(query) or query[i] != char:
            return None
        i += 1
    return i


def completion_of(query: str, prompt: str) -> str | None:
    """The model's text in an OpenRLHF query, cut at the first end-of-text marker; None if `query`
    does not start with `prompt`."""
    end = _prompt_end(query, prompt)
    if end is None:
        return None
    text = query[end:]
    cuts = [i for i in (text.find(marker) for marker in END_MARKERS) if i >= 0]
    return text[: min(cuts)] if cuts else text


def pass_fraction(tests_passed: int | None, tests_total: int | None) -> float:
    return tests_passed / tests_total if tests_passed is not None and tests_total else 0.0


def reward_response(verdicts: Sequence[Any]) -> dict[str, Any]:
    """OpenRLHF's answer for `verdicts` (`cosmocore.integrations.judging.Verdict`), in request order."""
    return {
        "rewards": [v.reward for v in verdicts],
        "scores": [1.0 if v.passed else 0.0 for v in verdicts],
        "extra_logs": {"pass_fraction": [pass_fraction(v.tests_passed, v.tests_total) for v in verdicts],
                       "duration_s": [v.duration_s for v in verdicts]},
        "statuses": [v.status for v in verdicts],
    }


# ---- SandboxFusion -------------------------------------------------------------------------------

PYTHON = frozenset({"python", "python3"})  # SandboxFusion's "python" (and the "python3" fence tag some clients pass)


@dataclass(frozen=True)
class ScriptJob:
    """One /run_code request as the sandbox takes it."""

    program: str
    tests: ScriptTests
    timeout_s: float  # the request's run_timeout, capped at the sandbox's timeout_s
    memory_mb: int  # memory_limit_MB (-1: the sandbox's), within [64, the sandbox's memory_mb]


class BadRequest(ValueError):
    """A request the protocol refuses; the message names the field."""


def _relative(path: str, field: str) -> str:
    clean = posixpath.normpath(path)
    if not path or path.startswith("/") or clean == ".." or clean.startswith("../"):
        raise BadRequest(f"field '{field}': path {path!r} must be relative to the working directory, without '..'")
    return clean


def _files(files: dict[str, str | None]) -> tuple[tuple[str, str], ...]:
    out = []
    for path, content in files.items():
        if content is None:  # SandboxFusion skips these too
            continue
        try:
            base64.b64decode(content, validate=True)
        except (binascii.Error, ValueError):
            raise BadRequest(f"field 'files': the content of {path!r} is not base64") from None
        out.append((_relative(path, "files"), content))
    return tuple(out)


def script_job(code: str, stdin: str | None, files: dict[str, str | None], fetch_files: Sequence[str],
               run_timeout: float, memory_limit_mb: int, sandbox: SandboxConfig) -> ScriptJob:
    """The sandbox job of a /run_code request (its language already checked)."""
    if run_timeout <= 0:
        raise BadRequest("field 'run_timeout' must be positive (seconds)")
    tests = ScriptTests(stdin=stdin or "", files=_files(files),
                        fetch_files=tuple(_relative(p, "fetch_files") for p in fetch_files))
    memory = sandbox.memory_mb if memory_limit_mb <= 0 else max(64, min(memory_limit_mb, sandbox.memory_mb))
    return ScriptJob(code, tests, min(run_timeout, sandbox.timeout_s), memory)


def _run_result(result: ScriptResult) -> dict[str, Any]:
    status = {"finished": "Finished", "timeout": "TimeLimitExceeded", "error": "Error"}[result.outcome]
    stderr = result.stderr if result.outcome != "error" else result.detail
    return {"status": status, "execution_time": result.duration_s, "cpu_time": None,
            "return_code": result.return_code, "stdout": result.stdout, "stderr": stderr}


def run_code_response(result: ScriptResult) -> dict[str, Any]:
    """SandboxFusion's RunCodeResponse for a script's result (its `parse_run_status` rules)."""
    if result.outcome == "error":
        status, message = "SandboxError", result.detail
    else:
        status, message = ("Success" if result.return_code == 0 else "Failed"), ""
    return {"status": status, "message": message, "compile_result": None, "run_result": _run_result(result),
            "executor_pod_name": None, "files": dict(result.files)}


def unsupported_language(language: str) -> dict[str, Any]:
    """SandboxFusion's shape for a language this server does not run (no run happened)."""
    return {"status": "SandboxError", "compile_result": None, "run_result": None, "executor_pod_name": None,
            "files": {}, "message": f"language {language!r} is not supported: CosmoCore's /run_code runs python only"}
