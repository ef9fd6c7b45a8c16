"""The protocols' pure conversions: OpenRLHF queries -> completions, verdicts -> OpenRLHF's answer, and
SandboxFusion requests -> sandbox jobs -> answers the published `sandbox-fusion` client's models accept."""

from __future__ import annotations

import base64
from dataclasses import dataclass

import pytest

from cosmocore.config import SandboxConfig
from cosmocore.serve import protocols
from cosmocore.serve.protocols import BadRequest, completion_of, run_code_response, script_job
from cosmocore.types import ScriptResult, ScriptTests

CHAT_PROMPT = "<|im_start|>user\nWrite add(a, b).<|im_end|>\n<|im_start|>assistant\n"


# ---- OpenRLHF ------------------------------------------------------------------------------------


def test_the_completion_is_what_follows_the_prompt_up_to_the_end_token():
    reply = "```python\ndef add(a, b):\n    return a + b\n```"
    assert completion_of(CHAT_PROMPT + reply + "<|im_end|><|endoftext|>", CHAT_PROMPT) == reply


def test_a_base_model_body_keeps_its_leading_whitespace():
    prompt = 'def add(a, b):\n    """Sum."""\n'
    assert completion_of(prompt + "    return a + b\n</s>", prompt) == "    return a + b\n"


def test_a_prompt_the_tokenizer_respaced_is_still_found():
    assert completion_of("def  f( x ):\n  return x", "def f(x):") == "\n  return x"


def test_a_query_that_does_not_start_with_its_prompt_gives_no_completion():
    assert completion_of("something else entirely", CHAT_PROMPT) is None


@dataclass(frozen=True)
class FakeVerdict:
    reward: float
    status: str
    passed: bool
    tests_passed: int | None
    tests_total: int | None
    duration_s: float


def test_the_reward_answer_lists_one_entry_per_sample_in_order():
    verdicts = [FakeVerdict(1.0, "passed", True, 3, 3, 0.01), FakeVerdict(-0.2, "wrong_answer", False, 1, 3, 0.02),
                FakeVerdict(-1.0, "syntax_error", False, None, 3, 0.0)]
    answer = protocols.reward_response(verdicts)
    assert answer["rewards"] == [1.0, -0.2, -1.0]
    assert answer["scores"] == [1.0, 0.0, 0.0]
    assert answer["extra_logs"] == {"pass_fraction": [1.0, 1 / 3, 0.0], "duration_s": [0.01, 0.02, 0.0]}
    assert answer["statuses"] == ["passed", "wrong_answer", "syntax_error"]


# ---- SandboxFusion: request -> job ---------------------------------------------------------------

SANDBOX = SandboxConfig(timeout_s=10.0, memory_mb=1024)


def job(**fields):
    args = {"code": "print(1)", "stdin": None, "files": {}, "fetch_files": [], "run_timeout": 5.0,
            "memory_limit_mb": -1, **fields}
    return script_job(args.pop("code"), args.pop("stdin"), args.pop("files"), args.pop("fetch_files"),
                      args.pop("run_timeout"), args.pop("memory_limit_mb"), SANDBOX)


def test_a_request_becomes_a_script_with_its_stdin_and_files():
    content = base64.b64encode(b"x").decode()
    got = job(stdin="1 2\n", files={"data/in.txt": content, "skipped": None}, fetch_files=["out.txt"])
    assert got.tests == ScriptTests(stdin="1 2\n", files=(("data/in.txt", content),), fetch_files=("out.txt",))


def test_timeouts_and_memory_stay_within_the_sandboxs_limits():
    assert job(run_timeout=60.0).timeout_s == 10.0 and job(run_timeout=2.5).timeout_s == 2.5
    assert job(memory_limit_mb=-1).memory_mb == 1024
    assert job(memory_limit_mb=8192).memory_mb == 1024
    assert job(memory_limit_mb=16).memory_mb == 64


@pytest.mark.parametrize(("fields", "named"), [
    ({"files": {"/etc/passwd": "eA=="}}, "files"),
    ({"files": {"../up.txt": "eA=="}}, "files"),
    ({"files": {"a.txt": "not base64!"}}, "files"),
    ({"fetch_files": ["/root/.ssh/id_rsa"]}, "fetch_files"),
    ({"run_timeout": 0.0}, "run_timeout"),
])
def test_a_request_outside_the_rules_is_refused_naming_the_field(fields, named):
    with pytest.raises(BadRequest, match=f"field '{named}'"):
        job(**fields)


# ---- SandboxFusion: result -> answer -------------------------------------------------------------


def answer(outcome, code, stdout="", stderr="", detail=""):
    from sandbox_fusion.models import RunCodeResponse

    raw = run_code_response(ScriptResult(outcome, code, stdout, stderr, 0.5, (("o.txt", "eA=="),), detail))
    return RunCodeResponse(**raw)  # the published client's own model reads it


def test_exit_code_zero_is_success_and_anything_else_failed():
    parsed = answer("finished", 0, "hi\n")
    assert parsed.status.value == "Success" and parsed.run_result.status.value == "Finished"
    assert (parsed.run_result.return_code, parsed.run_result.stdout, parsed.files) == (0, "hi\n", {"o.txt": "eA=="})
    assert answer("finished", 1, stderr="Traceback").status.value == "Failed"
    assert answer("finished", -9).status.value == "Failed"


def test_a_timeout_is_time_limit_exceeded_without_a_return_code():
    parsed = answer("timeout", None, "partial")
    assert parsed.status.value == "Failed" and parsed.run_result.status.value == "TimeLimitExceeded"
    assert parsed.run_result.return_code is None and parsed.run_result.stdout == "partial"


def test_a_sandbox_failure_is_a_sandbox_error_with_its_reason():
    parsed = answer("error", None, detail="sandbox: worker died")
    assert parsed.status.value == "SandboxError" and parsed.message == "sandbox: worker died"


def test_another_language_is_refused_in_sandbox_fusions_shape():
    from sandbox_fusion.models import RunCodeResponse

    parsed = RunCodeResponse(**protocols.unsupported_language("cpp"))
    assert parsed.status.value == "SandboxError" and "python only" in parsed.message and parsed.run_result is None
