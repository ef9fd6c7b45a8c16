"""The server's counters, in Prometheus' text exposition format (version 0.0.4), for `GET /metrics`.

    cosmocore_http_requests_total{endpoint, code}          counter   answered requests
    cosmocore_http_request_duration_seconds{endpoint}      histogram time from request to response
    cosmocore_http_in_flight                               gauge     requests being answered now
    cosmocore_http_rejected_total{reason}                  counter   refused before any work: capacity,
                                                                     draining (shutting down)
    cosmocore_verdicts_total{status}                       counter   verdicts given (/get_reward, /v1/judge)
    cosmocore_scripts_total{outcome}                       counter   scripts run (/run_code)

Endpoint labels are the server's own routes (anything else is "other"), so a scan of random paths cannot
grow the label set. Thread-safe: handlers record from the event loop, sandbox threads from theirs.
"""

from __future__ import annotations

import bisect
import threading
from collections import Counter
from collections.abc import Iterable

LATENCY_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _labels(**pairs: str) -> str:
    """`{k="v",...}` with values escaped as the format asks (backslash, quote, newline)."""
    def escape(value: str) -> str:
        return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")

    return "{" + ",".join(f'{k}="{escape(v)}"' for k, v in pairs.items()) + "}"


def _number(value: float) -> str:
    return repr(float(value)) if isinstance(value, float) else str(value)


class Histogram:
    """Cumulative-bucket latency histogram of one label set (seconds)."""

    def __init__(self, buckets: tuple[float, ...] = LATENCY_BUCKETS_S) -> None:
        self.buckets = buckets
        self.counts = [0] * (len(buckets) + 1)  # the last one is +Inf
        self.total_s = 0.0

    def observe(self, seconds: float) -> None:
        self.counts[bisect.bisect_left(self.buckets, seconds)] += 1
        self.total_s += seconds

    def lines(self, name: str, **labels: str) -> Iterable[str]:
        running = 0
        for bound, count in zip((*map(_number, self.buckets), "+Inf"), self.counts, strict=True):
            running += count
            yield f"{name}_bucket{_labels(**labels, le=bound)} {running}"
        yield f"{name}_sum{_labels(**labels)} {_number(self.total_s)}"
        yield f"{name}_count{_labels(**labels)} {running}"


class Metrics:
    """Everything `/metrics` reports, kept in memory for the server's life."""

    def __init__(self, endpoints: Iterable[str]) -> None:
        self.endpoints = frozenset(endpoints)
        self._lock = threading.Lock()
        self._requests: Counter[tuple[str, str]] = Counter()
        self._latency: dict[str, Histogram] = {}
        self._rejected: Counter[str] = Counter({"capacity": 0, "draining": 0})
        self._verdicts: Counter[str] = Counter()
        self._scripts: Counter[str] = Counter()
        self.in_flight = 0

    def endpoint(self, path: str) -> str:
        return path if path in self.endpoints else "other"

    def started(self) -> None:
        with self._lock:
            self.in_flight += 1

    def finished(self, path: str, code: int, seconds: float) -> None:
        endpoint = self.endpoint(path)
        with self._lock:
            self.in_flight -= 1
            self._requests[(endpoint, str(code))] += 1
            self._latency.setdefault(endpoint, Histogram()).observe(seconds)

    def rejected(self, reason: str) -> None:
        with self._lock:
            self._rejected[reason] += 1

    def verdicts(self, statuses: Iterable[str]) -> None:
        with self._lock:
            self._verdicts.update(statuses)

    def scripts(self, outcomes: Iterable[str]) -> None:
        with self._lock:
            self._scripts.update(outcomes)

    def exposition(self) -> str:
        """The text format: HELP and TYPE before each family, one sample per line, a final newline."""
        with self._lock:
            lines = [*self._counter("cosmocore_http_requests_total", "Answered HTTP requests.",
                                    {_labels(endpoint=e, code=c): n for (e, c), n in sorted(self._requests.items())}),
                     "# HELP cosmocore_http_request_duration_seconds Time from request to response.",
                     "# TYPE cosmocore_http_request_duration_seconds histogram"]
            for endpoint, histogram in sorted(self._latency.items()):
                lines += histogram.lines("cosmocore_http_request_duration_seconds", endpoint=endpoint)
            lines += ["# HELP cosmocore_http_in_flight Requests being answered now.",
                      "# TYPE cosmocore_http_in_flight gauge", f"cosmocore_http_in_flight {self.in_flight}"]
            lines += self._counter("cosmocore_http_rejected_total", "Requests refused before any work, by reason.",
                                   {_labels(reason=r): n for r, n in sorted(self._rejected.items())})
            lines += self._counter("cosmocore_verdicts_total", "Verdicts given, by status.",
                                   {_labels(status=s): n for s, n in sorted(self._verdicts.items())})
            lines += self._counter("cosmocore_scripts_total", "Scripts run by /run_code, by outcome.",
                                   {_labels(outcome=o): n for o, n in sorted(self._scripts.items())})
        return "\n".join(lines) + "\n"

    @staticmethod
    def _counter(name: str, help_text: str, samples: dict[str, int]) -> list[str]:
        return [f"# HELP {name} {help_text}", f"# TYPE {name} counter",
                *(f"{name}{labels} {n}" for labels, n in samples.items())]
