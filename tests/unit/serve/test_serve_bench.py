"""`cosmocore bench serve`'s bookkeeping: every sample dealt to exactly one call, and lost or repeated
answers show in the report instead of vanishing into a throughput number."""

from __future__ import annotations

from cosmocore.bench.serve import Sample, Tally, _chunks, _drive


def samples(n: int) -> list[Sample]:
    return [Sample(i, f"T/{i}", "p", "c") for i in range(n)]


def test_every_sample_is_dealt_to_exactly_one_call_of_the_right_size():
    calls = _chunks(samples(23), clients=4, per_request=3)
    assert len(calls) == 4
    dealt = [s.index for client in calls for call in client for s in call]
    assert sorted(dealt) == list(range(23))
    assert all(1 <= len(call) <= 3 for client in calls for call in client)


def test_a_pass_counts_each_answer_once_per_pass():
    tally = Tally()
    for _ in range(2):
        _drive(lambda chunk: [s.index % 2 == 0 for s in chunk], samples(10), clients=3, per_request=2, tally=tally)
    run = tally.run()
    assert (run.samples, run.answered, run.duplicates, run.passed) == (20, 20, 0, 10)


def test_a_repeated_answer_is_reported_as_a_duplicate():
    tally = Tally(passes=1, seconds=1.0, latencies=[0.1, 0.1],
                  answers=[((1, 0), True), ((1, 0), True), ((1, 1), False)])
    run = tally.run()
    assert (run.answered, run.duplicates, run.passed) == (2, 1, 2)
