"""The fork server's own bookkeeping: what it keeps between samples, and what it clears."""

from __future__ import annotations

import pytest

from cosmocore.sandbox import forkserver, isolation
from cosmocore.sandbox.judge import TestFailure as Failure
from cosmocore.sandbox.wire import Job
from cosmocore.types import AssertTests


def test_tmp_is_wiped_only_when_it_is_the_workers_private_tmpfs(monkeypatch):
    wiped = []
    monkeypatch.setattr(isolation, "wipe_private_tmp", wiped.append)
    forkserver.end_sample(-1, isolation.Layers(private_tmp=False))  # degraded: /tmp is the host's
    assert wiped == []
    forkserver.end_sample(-1, isolation.Layers(private_tmp=True), keep=("/tmp/.cosmocore-spark-1",))
    assert wiped == [("/tmp/.cosmocore-spark-1",)]


def test_the_wipe_keeps_exactly_the_paths_it_is_told_to(tmp_path, monkeypatch):
    for name in ("keep", "keep-not", "junk"):
        (tmp_path / name).mkdir()
    (tmp_path / "file").write_text("x")
    monkeypatch.setattr(isolation, "PRIVATE_TMP", (str(tmp_path),))
    isolation.wipe_private_tmp(keep=(str(tmp_path / "keep"),))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep"]


def test_tests_are_prepared_once_per_key_and_kept_for_later_jobs():
    cache = forkserver.PlanCache()
    tests = AssertTests(asserts=("assert f(1) == 1",))
    first = cache.get(Job("x", "t0", 1.0, 64, tests=tests))
    assert cache.get(Job("y", "t0", 1.0, 64)) is first  # sent without tests: the kept plan
    assert cache.get(Job("y", "t0", 1.0, 64, record=True)) is not first  # record mode is its own plan


def test_a_job_naming_tests_never_sent_is_refused():
    with pytest.raises(Failure, match="never sent tests 't9'"):
        forkserver.PlanCache().get(Job("x", "t9", 1.0, 64))


def test_two_live_sandboxes_never_share_sample_uids():
    import os

    from cosmocore.sandbox.pool import UID_BLOCK, claim_uid_block

    first_fd, first = claim_uid_block(70000, 2)
    second_fd, second = claim_uid_block(70000, 2)
    assert second == first + UID_BLOCK  # the first block is held: closing a sandbox kills its uids' processes
    os.close(first_fd)
    third_fd, third = claim_uid_block(70000, 2)
    assert third == first  # released with its holder
    os.close(second_fd)
    os.close(third_fd)
