"""The buffer's small parts: stable ids (slots.py), payload arenas (storage.py), eviction (eviction.py)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cosmocore.buffer.eviction import LowestFirst
from cosmocore.buffer.records import Trajectory, TrajectoryBatch, pad_rows
from cosmocore.buffer.slots import SlotTable, decode_ids, encode_ids
from cosmocore.buffer.storage import Arena, PayloadStore

# ---- stable ids ----------------------------------------------------------------------------------


def test_an_id_encodes_slot_and_generation_and_decodes_back():
    ids = encode_ids(np.array([0, 5, 2**32 - 1]), np.array([0, 3, 2**31 + 7]))
    slots, generations = decode_ids(ids)
    assert slots.tolist() == [0, 5, 2**32 - 1]
    assert generations.tolist() == [0, 3, 7]  # generations wrap at 2**31
    assert (ids >= 0).all()


def test_an_id_stops_resolving_once_its_item_is_deleted_even_when_the_slot_is_reused():
    table = SlotTable(4)
    slots = table.allocate(2)
    ids = table.ids(slots)
    table.release(slots[:1])
    reused = table.allocate(1)
    assert reused.tolist() == slots[:1].tolist()  # the freed slot is handed out again...
    _, current = table.resolve(np.concatenate([ids, table.ids(reused), [-1, 4 << 0]]))
    assert current.tolist() == [False, True, True, False, False]  # ...under a new generation


def test_fresh_slots_are_handed_out_in_order():
    table = SlotTable(5)
    assert table.allocate(3).tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match="2 free"):
        table.allocate(3)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(1, 6)), max_size=30), st.integers(0, 2**31))
def test_the_dense_member_list_always_holds_exactly_the_live_slots(ops, seed):
    table, rng = SlotTable(16), np.random.default_rng(seed)
    for grow, k in ops:
        live = np.flatnonzero(table.alive)
        if grow:
            table.allocate(min(k, table.top))
        elif len(live):
            table.release(rng.choice(live, min(k, len(live)), replace=False))
        members = table.members[:len(table)]
        assert sorted(members.tolist()) == np.flatnonzero(table.alive).tolist()
        assert (table.position[members] == np.arange(len(table))).all()
    if len(table):
        assert table.alive[table.uniform(50, rng)].all()


# ---- payloads -------------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.lists(st.integers(0, 9), max_size=6)), max_size=40))
def test_an_arena_returns_each_live_row_as_written_through_growth_and_packing(ops):
    capacity = 8
    arena = Arena(np.zeros(capacity, np.int64), np.zeros(capacity, np.int32), (np.int32,), reserve=4)
    rows: dict[int, list[int]] = {}
    for i, (write, row) in enumerate(ops):
        slot = i % capacity
        if slot in rows:
            arena.free(np.array([slot]))
            del rows[slot]
        if write:
            arena.put(np.array([slot]), np.array([len(row)]), [np.array(row, np.int32)])
            rows[slot] = row
        slots = np.array(sorted(rows), np.int64)
        lengths, (flat,) = arena.take(slots)
        assert flat.tolist() == [t for s in sorted(rows) for t in rows[s]]
        assert lengths.tolist() == [len(rows[s]) for s in sorted(rows)]
        assert arena.used == sum(len(r) for r in rows.values())


def _batch():
    return TrajectoryBatch(
        prompt_ids=np.array([1, 2, 3, 4], np.int32), prompt_lengths=np.array([3, 0, 1]),
        completion_ids=np.array([10, 11, 12, 13, 14], np.int32), completion_lengths=np.array([2, 1, 2]),
        behaviour_logprobs=np.array([-0.1, -0.2, -0.3, -0.4, -0.5], np.float32),
        reward=np.array([1.0, -0.3, -1.0], np.float32), policy_version=np.array([7, 7, 8]),
        entropy=np.array([0.1, 0.5, 0.9], np.float32), task_names=("a", "b"), task_index=np.array([1, 0, 1]),
        features=np.array([[1.0, 0.0], [2.0, 0.5], [3.0, 1.0]], np.float32))


def test_the_payload_store_gives_back_what_it_was_given_row_by_row():
    store = PayloadStore(10)
    store.put(np.array([4, 0, 9]), _batch())
    out = store.take(np.array([9, 4]))
    rows = [out.item(0), out.item(1)]
    assert rows[0].prompt_ids.tolist() == [4] and rows[0].completion_ids.tolist() == [13, 14]
    assert rows[0].behaviour_logprobs == pytest.approx([-0.4, -0.5]) and rows[0].task_id == "b"
    assert rows[1].prompt_ids.tolist() == [1, 2, 3] and rows[1].completion_ids.tolist() == [10, 11]
    assert rows[1].reward == 1.0 and rows[1].policy_version == 7 and rows[1].entropy == pytest.approx(0.1)
    assert out.task_id(1) == "b" and store.take(np.array([0])).task_id(0) == "a"
    assert out.features.tolist() == [[3.0, 1.0], [1.0, 0.0]] and out.features.dtype == np.float32


def test_the_payload_store_refuses_features_of_another_width_naming_both():
    store = PayloadStore(10)
    store.put(np.array([0, 1, 2]), _batch())
    wider = TrajectoryBatch(**{**_batch().__dict__, "features": np.zeros((3, 5), np.float32)})
    with pytest.raises(ValueError, match=r"width 5 .* width 2"):
        store.put(np.array([3, 4, 5]), wider)
    assert store.prompts.used == 4  # refused before anything was written


def test_the_payload_store_keeps_a_zero_width_feature_column():
    store = PayloadStore(4)
    store.put(np.array([1, 3, 0]), TrajectoryBatch(**{**_batch().__dict__, "features": np.zeros((3, 0), np.float32)}))
    assert store.take(np.array([3, 1])).features.shape == (2, 0)


def test_per_item_records_survive_a_round_trip_through_a_columnar_batch():
    rows = [([1, 2], [3], [-0.5], 1.0, 4, "x", 0.2, [1.0, 0.0]),
            ([], [5, 6], [-1.0, -2.0], -0.3, 5, "y", 0.7, [0.0, 2.0]),
            ([7], [], [], 0.0, 5, "x", 0.0, [0.5, 0.5])]
    items = [Trajectory(np.array(p, np.int32), np.array(c, np.int32), np.array(lp, np.float32), r, v, t, e,
                        np.array(f, np.float32)) for p, c, lp, r, v, t, e, f in rows]
    batch = TrajectoryBatch.from_trajectories(items)
    batch.check()
    assert batch.task_names == ("x", "y")
    for i, item in enumerate(items):
        back = batch.item(i)
        assert back.prompt_ids.tolist() == item.prompt_ids.tolist()
        assert back.completion_ids.tolist() == item.completion_ids.tolist()
        assert back.behaviour_logprobs.tolist() == item.behaviour_logprobs.tolist()
        assert (back.reward, back.policy_version, back.task_id) == (pytest.approx(item.reward), item.policy_version,
                                                                    item.task_id)
        assert back.features.tolist() == item.features.tolist()
    reordered = batch.take(np.array([2, 0]))
    assert reordered.item(0).prompt_ids.tolist() == [7] and reordered.item(1).completion_ids.tolist() == [3]
    assert reordered.features.tolist() == [[0.5, 0.5], [1.0, 0.0]] and batch.features.dtype == np.float32


def test_a_batch_built_from_no_records_is_empty_and_consistent():
    batch = TrajectoryBatch.from_trajectories([])
    batch.check()
    assert len(batch) == 0 and batch.features.shape == (0, 0)


def test_a_batch_filtered_by_mask_keeps_rows_whole():
    kept = _batch().keep(np.array([True, False, True]))
    assert kept.prompt_ids.tolist() == [1, 2, 3, 4] and kept.completion_ids.tolist() == [10, 11, 13, 14]
    assert kept.behaviour_logprobs == pytest.approx([-0.1, -0.2, -0.4, -0.5])
    assert kept.reward.tolist() == [1.0, -1.0] and kept.features.tolist() == [[1.0, 0.0], [3.0, 1.0]]
    kept.check()


def test_ragged_rows_pad_to_the_longest():
    assert pad_rows(np.array([1, 2, 3]), np.array([2, 0, 1]), fill=-1).tolist() == [[1, 2], [-1, -1], [3, -1]]


def test_inconsistent_batches_are_refused():
    batch = _batch()
    bad = TrajectoryBatch(**{**batch.__dict__, "completion_lengths": np.array([2, 1, 1])})
    with pytest.raises(ValueError, match="completion_lengths"):
        bad.check()


@pytest.mark.parametrize("features", [np.zeros((2, 2), np.float32), np.zeros(3, np.float32)])
def test_a_batch_whose_features_are_not_one_row_per_item_is_refused(features):
    with pytest.raises(ValueError, match="features must be"):
        TrajectoryBatch(**{**_batch().__dict__, "features": features}).check()


# ---- eviction -------------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 5), st.lists(st.integers(0, 29), max_size=8)), min_size=1, max_size=25),
       st.integers(0, 2**31))
def test_eviction_always_takes_the_lowest_priorities_among_non_dream_items(ops, seed):
    """Against a brute-force ranking, through pool refills, priority changes and queue changes."""
    rng = np.random.default_rng(seed)
    n_slots = 30
    priority = rng.integers(0, 50, n_slots).astype(float)
    alive, dream = np.ones(n_slots, bool), rng.random(n_slots) < 0.2
    evictor = LowestFirst(n_slots, pool_size=4)
    for k, touched in ops:
        slots = np.unique(np.array(touched, np.int64))
        priority[slots] = rng.integers(0, 50, len(slots))
        dream[slots] = rng.random(len(slots)) < 0.2
        evictor.note(slots, priority[slots], ~dream[slots] & alive[slots])
        k = min(k, int(alive.sum()))
        evictable = np.flatnonzero(alive & ~dream)
        victims = evictor.choose(k, priority, alive, dream)
        assert len(set(victims.tolist())) == k and alive[victims].all()
        if len(evictable) >= k:
            assert not dream[victims].any()
            assert sorted(priority[victims]) == sorted(priority[evictable])[:k]
        priority[victims] = rng.integers(0, 50, k)
        dream[victims] = False  # the buffer refills the freed slots with new items
        evictor.note(victims, priority[victims], np.ones(k, bool))


def test_without_protection_the_lowest_priorities_go_whatever_their_membership():
    priority = np.array([5.0, 1.0, 3.0, 2.0])
    victims = LowestFirst(4, pool_size=2).choose(2, priority, np.ones(4, bool), None)
    assert sorted(victims.tolist()) == [1, 3]


def test_when_only_dream_items_are_left_the_lowest_of_them_go():
    priority = np.array([5.0, 1.0, 3.0, 2.0])
    alive = np.ones(4, bool)
    dream = np.array([True, True, True, False])
    victims = LowestFirst(4, pool_size=2).choose(3, priority, alive, dream)
    assert sorted(victims.tolist()) == [1, 2, 3]  # the one non-member, then members 1 and 2 by priority
