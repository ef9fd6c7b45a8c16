"""Who gets in and how much they may send: the token policy, and the gatekeeper driven with raw ASGI
messages (the app behind it records what reached it)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from cosmocore.errors import InputError
from cosmocore.serve.access import Gatekeeper, Lifecycle, is_loopback, token_for
from cosmocore.serve.metrics import Metrics

# ---- the token policy ----------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_loopback_needs_no_token(host):
    assert is_loopback(host)
    assert token_for(host, "").token == ""


@pytest.mark.parametrize("host", ["0.0.0.0", "::"])
def test_a_wildcard_address_without_a_token_is_refused(host):
    with pytest.raises(InputError, match="every interface: give --token"):
        token_for(host, "")
    assert token_for(host, "s3cret").token == "s3cret"


def test_another_address_gets_a_generated_token_when_none_is_given():
    first, second = token_for("10.1.2.3", ""), token_for("10.1.2.3", "")
    assert first.generated and len(first.token) >= 32 and first.token != second.token
    assert token_for("10.1.2.3", "mine") == type(first)("mine", False)


def test_an_unresolvable_host_is_an_input_error():
    with pytest.raises(InputError, match="cannot resolve --host"):
        is_loopback("no-such-host.invalid")


# ---- the gatekeeper ------------------------------------------------------------------------------


class Recorder:
    """The app behind the gate: answers 200 with the path and body it was handed."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, bytes]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        message = await receive()
        self.calls.append((scope["path"], message["body"]))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})


def call(gate: Gatekeeper, path: str, body: bytes = b"", headers: dict[str, str] | None = None,
         chunks: int = 1) -> tuple[int, dict[str, str], dict[str, Any]]:
    """One request through `gate`: (status, response headers, JSON body); `chunks` > 1 sends it chunked."""
    raw_headers = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    size = -(-len(body) // chunks) if body else 1
    parts = [body[i:i + size] for i in range(0, len(body), size)] or [b""]
    messages = [{"type": "http.request", "body": p, "more_body": i < len(parts) - 1} for i, p in enumerate(parts)]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "path": path, "raw_path": path.encode(), "headers": raw_headers, "method": "POST"}
    asyncio.run(gate(scope, receive, send))
    start = sent[0]
    answer = {k.decode(): v.decode() for k, v in start["headers"]}
    return start["status"], answer, json.loads(b"".join(m.get("body", b"") for m in sent[1:]) or b"{}")


def gatekeeper(token: str = "", max_body_bytes: int = 1024, draining: bool = False) -> tuple[Gatekeeper, Recorder]:
    app = Recorder()
    gate = Gatekeeper(app, token=token, max_body_bytes=max_body_bytes, metrics=Metrics(["/run_code", "/healthz"]),
                      lifecycle=Lifecycle(draining=draining, retry_after_s=2))
    return gate, app


def test_without_a_token_configured_every_request_passes():
    gate, app = gatekeeper()
    assert call(gate, "/run_code", b"{}")[0] == 200 and app.calls == [("/run_code", b"{}")]


def test_a_missing_or_wrong_token_is_401_and_reaches_nothing():
    gate, app = gatekeeper(token="s3cret")
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret"}):
        code, answer, body = call(gate, "/run_code", b"{}", headers)
        assert code == 401 and answer["www-authenticate"] == "Bearer" and "token" in body["detail"]
    assert call(gate, "/t/wrong/run_code")[0] == 401
    assert app.calls == []


def test_the_token_opens_by_header_or_by_path_prefix():
    gate, app = gatekeeper(token="s3cret")
    assert call(gate, "/run_code", b"a", {"Authorization": "Bearer s3cret"})[0] == 200
    assert call(gate, "/t/s3cret/run_code", b"b")[0] == 200
    assert app.calls == [("/run_code", b"a"), ("/run_code", b"b")]  # the prefix is stripped


def test_healthz_needs_no_token():
    gate, _ = gatekeeper(token="s3cret")
    assert call(gate, "/healthz")[0] == 200


def test_a_body_over_the_limit_is_413_by_its_declared_length_or_as_it_streams():
    gate, app = gatekeeper(max_body_bytes=1024)
    big = b"x" * 2000
    assert call(gate, "/run_code", big, {"Content-Length": "2000"})[0] == 413
    code, answer, body = call(gate, "/run_code", big, chunks=4)  # chunked: no length declared
    assert code == 413 and "1 KiB limit" in body["detail"] and answer["connection"] == "close"
    assert app.calls == []
    assert call(gate, "/run_code", b"y" * 1024, chunks=3)[0] == 200  # at the limit, reassembled whole
    assert app.calls == [("/run_code", b"y" * 1024)]


def test_while_draining_every_request_is_503_with_retry_after():
    gate, app = gatekeeper(draining=True)
    code, answer, _ = call(gate, "/run_code", b"{}")
    assert code == 503 and answer["retry-after"] == "2" and answer["connection"] == "close"
    assert app.calls == []


def test_every_answer_is_counted_with_its_code():
    gate, _ = gatekeeper(token="s3cret")
    call(gate, "/run_code", b"{}")
    call(gate, "/run_code", b"{}", {"Authorization": "Bearer s3cret"})
    text = gate.metrics.exposition()
    assert 'endpoint="/run_code",code="401"} 1' in text and 'endpoint="/run_code",code="200"} 1' in text
    assert "cosmocore_http_in_flight 0" in text
