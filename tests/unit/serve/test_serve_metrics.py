"""`/metrics` text: Prometheus' exposition format, with the counts the server recorded."""

from __future__ import annotations

import re

from cosmocore.serve.metrics import Histogram, Metrics

SAMPLE = re.compile(r'^[a-z_]+(\{[a-z_]+="(?:[^"\\]|\\.)*"(,[a-z_]+="(?:[^"\\]|\\.)*")*\})? -?[0-9.e+-]+$')


def recorded() -> Metrics:
    metrics = Metrics(["/get_reward", "/run_code"])
    for path, code, seconds in (("/get_reward", 200, 0.003), ("/get_reward", 200, 0.2), ("/get_reward", 422, 0.001),
                                ("/run_code", 429, 0.0005), ("/wp-login.php", 404, 0.001)):
        metrics.started()
        metrics.finished(path, code, seconds)
    metrics.rejected("capacity")
    metrics.verdicts(["passed", "wrong_answer", "passed"])
    metrics.scripts(["finished"])
    return metrics


def test_every_line_is_a_comment_or_a_well_formed_sample():
    text = recorded().exposition()
    assert text.endswith("\n")
    for line in text.splitlines():
        assert line.startswith(("# HELP ", "# TYPE ")) or SAMPLE.match(line), line


def test_each_family_is_typed_once_before_its_samples():
    lines = recorded().exposition().splitlines()
    typed = {line.split()[2]: i for i, line in enumerate(lines) if line.startswith("# TYPE")}
    assert len(typed) == sum(line.startswith("# TYPE") for line in lines)
    for i, line in enumerate(lines):
        if not line.startswith("#"):
            family = re.sub(r"_(bucket|sum|count)$", "", line.split("{")[0].split()[0])
            assert typed[family] < i, line


def test_requests_are_counted_by_endpoint_and_code_and_unknown_paths_are_other():
    text = recorded().exposition()
    assert 'cosmocore_http_requests_total{endpoint="/get_reward",code="200"} 2' in text
    assert 'cosmocore_http_requests_total{endpoint="/get_reward",code="422"} 1' in text
    assert 'cosmocore_http_requests_total{endpoint="other",code="404"} 1' in text
    assert "wp-login" not in text


def test_verdicts_scripts_rejections_and_in_flight_are_reported():
    text = recorded().exposition()
    assert 'cosmocore_verdicts_total{status="passed"} 2' in text
    assert 'cosmocore_verdicts_total{status="wrong_answer"} 1' in text
    assert 'cosmocore_scripts_total{outcome="finished"} 1' in text
    assert 'cosmocore_http_rejected_total{reason="capacity"} 1' in text
    assert 'cosmocore_http_rejected_total{reason="draining"} 0' in text
    assert "cosmocore_http_in_flight 0" in text


def test_histogram_buckets_are_cumulative_and_end_with_the_count():
    histogram = Histogram(buckets=(0.01, 0.1, 1.0))
    for seconds in (0.005, 0.01, 0.05, 0.5, 3.0):
        histogram.observe(seconds)
    lines = list(histogram.lines("t", endpoint="/x"))
    assert lines == ['t_bucket{endpoint="/x",le="0.01"} 2', 't_bucket{endpoint="/x",le="0.1"} 3',
                     't_bucket{endpoint="/x",le="1.0"} 4', 't_bucket{endpoint="/x",le="+Inf"} 5',
                     f't_sum{{endpoint="/x"}} {0.005 + 0.01 + 0.05 + 0.5 + 3.0!r}', 't_count{endpoint="/x"} 5']


def test_label_values_are_escaped():
    metrics = Metrics([])
    metrics.verdicts(['odd"status\\with\nnewline'])
    assert 'status="odd\\"status\\\\with\\nnewline"' in metrics.exposition()
