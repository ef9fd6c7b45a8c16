"""The HTTP app: routes, and every failure as a one-line JSON `{"detail": ...}` with a fitting code.

    POST /get_reward   OpenRLHF remote reward: {query, prompts, labels} -> {rewards, scores, extra_logs}
    POST /run_code     SandboxFusion run_code: python only; isolation, not a verdict (see `cosmocore.serve`)
    POST /v1/judge     {task_id | problem, completion} -> CosmoCore's verdict
    GET  /healthz      liveness and load (no token needed)
    GET  /metrics      Prometheus text format (`cosmocore.serve.metrics`)

Codes: 400 body is not JSON; 401 token (`access`); 404 unknown task id or path; 413 body or batch too
large; 422 wrong shape, a missing field, a problem that cannot be judged here; 429 no free slot
(Retry-After); 503 shutting down (Retry-After) or the sandbox is gone; 504 the request's deadline passed.
"""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, ValidationError

from cosmocore.errors import InputError
from cosmocore.serve import protocols
from cosmocore.serve.metrics import CONTENT_TYPE, Metrics
from cosmocore.serve.schemas import JudgeRequest, RewardRequest, RunCodeRequest, validation_message
from cosmocore.serve.service import Busy, DeadlineExceeded, Service, UnknownTask

ENDPOINTS = ("/get_reward", "/run_code", "/v1/judge", "/healthz", "/metrics")
Body = TypeVar("Body", bound=BaseModel)


async def _body(request: Request, model: type[Body]) -> Body:
    """The request's JSON body as `model`, whatever Content-Type the client sent (curl -d sends a form's)."""
    return model.model_validate_json(await request.body())


class TooLarge(InputError):
    """A batch over --max-items (413)."""


def _error(code: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": message}, status_code=code, headers=headers)


def _handlers(app: FastAPI, service: Service) -> None:
    """One handler per failure (Starlette re-raises what reaches the catch-all, to log it: only real bugs)."""
    from cosmocore.sandbox.host import SandboxError

    retry = {"Retry-After": str(service.config.retry_after_s)}
    for kind, code in ((UnknownTask, 404), (TooLarge, 413), (protocols.BadRequest, 422), (InputError, 422)):
        app.add_exception_handler(kind, _answer_with(code))

    @app.exception_handler(ValidationError)
    async def invalid(request: Request, err: ValidationError) -> JSONResponse:
        return _error(*validation_message(err.errors()))

    @app.exception_handler(Busy)
    async def busy(request: Request, err: Busy) -> JSONResponse:
        return _error(429, f"all {service.gate.capacity} request slots are busy; retry later", retry)

    @app.exception_handler(DeadlineExceeded)
    async def late(request: Request, err: DeadlineExceeded) -> JSONResponse:
        return _error(504, f"request deadline of {service.config.deadline_s:g} s passed (--deadline-s); "
                           "its samples still finish in the background")

    @app.exception_handler(SandboxError)
    async def no_sandbox(request: Request, err: SandboxError) -> JSONResponse:
        return _error(503, f"sandbox unavailable: {err}", retry)

    @app.exception_handler(Exception)
    async def failed(request: Request, err: Exception) -> JSONResponse:
        return _error(500, f"internal error: {type(err).__name__}: {err}")


def _answer_with(code: int) -> Any:
    async def handler(request: Request, err: Exception) -> JSONResponse:
        return _error(code, str(err))

    return handler


def _check_batch(body: RewardRequest, max_items: int) -> list[str]:
    """The completions of an OpenRLHF batch; its fields must line up and fit."""
    lengths = (len(body.query), len(body.prompts), len(body.labels))
    if len(set(lengths)) != 1:
        raise protocols.BadRequest("fields 'query', 'prompts' and 'labels' must be equally long, got "
                                   f"{', '.join(map(str, lengths))}")
    if lengths[0] > max_items:
        raise TooLarge(f"batch of {lengths[0]} completions is over the {max_items} limit (--max-items)")
    completions = []
    for i, (query, prompt) in enumerate(zip(body.query, body.prompts, strict=True)):
        completion = protocols.completion_of(query, prompt)
        if completion is None:
            raise protocols.BadRequest(f"field 'query[{i}]' does not start with 'prompts[{i}]' (send the prompt "
                                       "as the model was given it)")
        completions.append(completion)
    return completions


def _routes(app: FastAPI, service: Service, metrics: Metrics) -> None:
    @app.post("/get_reward")
    async def get_reward(request: Request) -> JSONResponse:
        body = await _body(request, RewardRequest)
        completions = _check_batch(body, service.config.max_items)
        wheres = [f"labels[{i}]" for i in range(len(completions))]
        verdicts = await service.run(lambda: service.verdicts(body.labels, completions, wheres))
        return JSONResponse(protocols.reward_response(verdicts))

    @app.post("/v1/judge")
    async def judge(request: Request) -> JSONResponse:
        """CosmoCore's trusted verdict on one completion (the judge's own tests, outside the program)."""
        body = await _body(request, JudgeRequest)
        if (body.task_id is None) == (body.problem is None):
            raise protocols.BadRequest("give exactly one of the fields 'task_id' and 'problem'")
        label, where = (body.task_id, "task_id") if body.task_id is not None else (body.problem, "problem")
        assert label is not None
        verdicts = await service.run(lambda: service.verdicts([label], [body.completion], [where]))
        return JSONResponse(verdicts[0].as_dict())

    @app.post("/run_code")
    async def run_code(request: Request) -> JSONResponse:
        """SandboxFusion's run_code, python only: the program runs under every isolation layer and its
        exit code, stdout and stderr come back. Isolation, NOT a verdict: a client that counts return
        code 0 as a pass is fooled by `sys.exit(0)`; trusted verdicts come from /v1/judge and /get_reward."""
        body = await _body(request, RunCodeRequest)
        if body.language not in protocols.PYTHON:
            return JSONResponse(protocols.unsupported_language(body.language))
        job = protocols.script_job(body.code, body.stdin, body.files, body.fetch_files, body.run_timeout,
                                   body.memory_limit_MB, service.sandbox_config)
        result = await service.run(lambda: service.run_script(job))
        return JSONResponse(protocols.run_code_response(result))

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        return {"status": "ok", "in_flight": service.gate.held, "capacity": service.gate.capacity,
                "judge_started": service.judge.started, "scripts_started": service.scripts_started}

    @app.get("/metrics")
    async def prometheus() -> PlainTextResponse:
        return PlainTextResponse(metrics.exposition(), media_type=CONTENT_TYPE)


def create_app(service: Service, metrics: Metrics) -> FastAPI:
    """The FastAPI app (no interactive docs: the endpoints are documented in docs/integrations.md)."""
    app = FastAPI(title="CosmoCore", docs_url=None, redoc_url=None, openapi_url=None)
    _handlers(app, service)
    _routes(app, service, metrics)
    return app
