"""`cosmocore bench buffer` runs both buffers on the same stream and reports every phase."""

import pytest

from cosmocore.cli import main

pytest.importorskip("cpprb")


def test_a_small_buffer_bench_times_both_buffers_on_every_phase(capsys):
    from cosmocore.bench.buffer import bench_buffer, format_bench

    result = bench_buffer(items=4096, batch=64, rounds=5, insert_batch=512, log=lambda line: None)
    for side in (result.ours, result.cpprb):
        assert side.insert.items == 4096 and side.rounds.items == 5 * 64 and side.full_insert.items == 512
        assert side.insert.per_s > 0 and side.rounds.per_s > 0 and side.size == 4096
    assert 0 < result.stored < 4096 and result.pruned == 4096 - result.stored  # the Prune Bin was on
    assert 0 < result.dream_size < result.stored
    text = format_bench(result)
    assert "sample + update priorities" in text and "cpprb" in text and "x\n" in text


@pytest.mark.parametrize("args", [["--items", "0"], ["--items", "100", "--insert-batch", "512"], ["--rounds", "0"]])
def test_impossible_bench_sizes_are_refused_before_any_work(args, capsys):
    assert main(["bench", "buffer", *args]) == 2
    assert "cosmocore: error:" in capsys.readouterr().err
