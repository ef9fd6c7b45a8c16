"""`cosmocore serve`: bind, check the sandbox, serve until SIGTERM or Ctrl-C, then shut down in order.

Start: the token policy (`access.token_for`), the listening socket (so port 0 is known before the first
request), the judge's sandbox started and checked on a known-good solution (HumanEval/0's canonical
one must pass), one line each for the address, the token (when generated), the endpoints.

Shutdown (SIGTERM or SIGINT): new requests get 503 + `Connection: close` at once; requests in progress
finish (each within its deadline, as a result or a 504), for at most the deadline plus a grace; then the
judge and the script sandbox are closed (what still runs in them ends with them) and `serve` returns 0.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

from cosmocore.config import RewardConfig, SandboxConfig, ServeConfig
from cosmocore.errors import InputError
from cosmocore.serve.access import Gatekeeper, Lifecycle, TokenChoice, token_for
from cosmocore.serve.metrics import Metrics
from cosmocore.serve.service import ProblemSource, Service

SHUTDOWN_GRACE_S = 5.0  # beyond the request deadline, how long shutdown waits for requests in progress
BACKLOG = 2048  # connections waiting to be accepted (uvicorn's default)
SELF_TEST_TASK = "HumanEval/0"  # its canonical solution must pass before the server takes requests


def _bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on (host, port); InputError if the address cannot be had."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(BACKLOG)  # now: connections made after the banner wait here until uvicorn accepts them
    except OSError as err:
        raise InputError(f"cannot listen on {host}:{port}: {err.strerror or err}") from err
    return sock


def _self_test(service: Service) -> None:
    """Start the judge's sandbox and check that it passes a known-good solution."""
    from cosmocore.integrations.rows import problem_from_task_id

    problem = problem_from_task_id(SELF_TEST_TASK)
    verdict = service.judge.judge(problem, problem.reference[len(problem.completion_prefix):])
    if not verdict.passed:
        raise InputError(f"sandbox self-test failed: {SELF_TEST_TASK}'s canonical solution got {verdict.status} "
                         f"({verdict.detail}); run `cosmocore doctor`")


def _banner(sock: socket.socket, choice: TokenChoice, service: Service) -> list[str]:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    lines = [f"cosmocore serve: http://{shown}:{port} ({service.sandbox_config.worker_count} sandbox workers, "
             f"up to {service.gate.capacity} requests at once, deadline {service.config.deadline_s:g} s)",
             "endpoints: POST /get_reward, POST /run_code, POST /v1/judge, GET /healthz, GET /metrics"]
    if choice.generated:
        lines.append(f"token (generated): {choice.token}  (send `Authorization: Bearer <token>`, or use "
                     f"http://{shown}:{port}/t/<token>/ as the base URL)")
    elif choice.token:
        lines.append("token: required (the one given)")
    if os.geteuid() != 0:
        lines.append("warning: not root: the sandbox cannot switch uids; `cosmocore doctor` shows what is off")
    return lines


def _uvicorn_server(app: Any, config: ServeConfig, lifecycle: Lifecycle) -> Any:
    import uvicorn

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            lifecycle.draining = True  # from now on: 503, while requests in progress finish
            super().handle_exit(sig, frame)

    return Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                                 timeout_graceful_shutdown=int(config.deadline_s + SHUTDOWN_GRACE_S)))


def serve(config: ServeConfig, sandbox: SandboxConfig, problems: ProblemSource,
          rewards: RewardConfig | None = None, log: Callable[[str], None] = print) -> int:
    """Run the server until SIGTERM or SIGINT (see the module docstring); 0 after a clean shutdown."""
    from cosmocore.integrations.judging import Judge
    from cosmocore.serve.app import ENDPOINTS, create_app

    choice = token_for(config.host, config.token)
    sock = _bind(config.host, config.port)
    metrics, lifecycle = Metrics(ENDPOINTS), Lifecycle(retry_after_s=config.retry_after_s)
    service = Service(Judge(sandbox, rewards, hide_paths=problems.hidden_paths()), sandbox, config, metrics,
                      problems)
    signals = _Signals()
    quiet = {sig: signal.signal(sig, signals) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        _self_test(service)
        app = Gatekeeper(create_app(service, metrics), token=choice.token, max_body_bytes=config.max_body_kb * 1024,
                         metrics=metrics, lifecycle=lifecycle)
        for line in _banner(sock, choice, service):
            log(line)
        sys.stdout.flush()
        if not signals.received:  # a signal during the self-test: never start serving
            _uvicorn_server(app, config, lifecycle).run(sockets=[sock])
    finally:
        service.close()
        sock.close()
        for sig, handler in quiet.items():
            signal.signal(sig, handler)
    log("cosmocore serve: stopped")
    return 0


class _Signals:
    """SIGTERM/SIGINT outside uvicorn's own handling: before it starts (then it never does), and after it
    has drained, when it raises the signal again; taken here so that the sandbox is closed and `serve`
    returns instead of the process dying mid-cleanup."""

    def __init__(self) -> None:
        self.received = False

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.received = True
