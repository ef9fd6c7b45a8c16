"""Request bodies of the server's endpoints (pydantic, strict: no silent coercion), and the one-line
message that replaces FastAPI's verbose validation error.

Unknown fields are ignored, as SandboxFusion's own server ignores them (clients send `memory_limit_MB`,
`args`, trace ids): compatibility over strictness there. A wrong type, a missing field or JSON that does
not parse is a 4xx whose message names the field (`validation_message`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict


class _Body(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")


Label = str | dict[str, Any]  # a task id, a problem object, or its JSON text


class RewardRequest(_Body):
    """OpenRLHF's remote reward request (see `cosmocore.serve.protocols`)."""

    query: list[str]
    prompts: list[str]
    labels: list[Label]


class JudgeRequest(_Body):
    """`/v1/judge`: one completion of one problem, named by `task_id` or given as `problem`."""

    completion: str
    task_id: str | None = None
    problem: Label | None = None


class RunCodeRequest(_Body):
    """SandboxFusion's RunCodeRequest (the fields CosmoCore reads; defaults as SandboxFusion's)."""

    code: str
    language: str
    run_timeout: float = 10.0
    compile_timeout: float = 10.0  # accepted, unused: python is not compiled
    memory_limit_MB: int = -1  # SandboxFusion's field name
    stdin: str | None = None
    files: dict[str, str | None] = {}  # pydantic copies mutable defaults
    fetch_files: list[str] = []


_UNION_BRANCHES = frozenset({"str", "dict[str,any]"})  # how pydantic names the branches of `Label` in a location


def _where(loc: Sequence[Any]) -> str:
    """('query', 2) -> "query[2]"; ('files', 'a.txt') -> "files.a.txt"."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else ("." if text else "") + str(part)
    return text


def validation_message(errors: Sequence[Mapping[str, Any]]) -> tuple[int, str]:
    """(HTTP code, one line) for the first of pydantic's errors: 400 for JSON that does not parse,
    422 for a body of the wrong shape."""
    first = errors[0]
    loc = tuple(first.get("loc", ()))
    if first.get("type") == "json_invalid":
        return 400, f"body is not valid JSON: {first.get('ctx', {}).get('error', first.get('msg'))}"
    if first.get("type") == "missing":
        return 422, f"field '{_where(loc)}' is required"
    if not loc:
        return 422, f"body must be a JSON object: {first.get('msg')}"
    if loc[-1] in _UNION_BRANCHES:
        return 422, f"field '{_where(loc[:-1])}' must be a string or a JSON object"
    return 422, f"field '{_where(loc)}': {first.get('msg')}"
