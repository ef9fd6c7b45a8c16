"""CosmoBuffer's rules, sampling distributions, guards and persistence, through its public API.

Items are labelled by their reward (0, 1, 2, ...), so a sampled row can be traced back to what was
inserted; their execution features are (label, -label).
"""

import dataclasses
import json

import numpy as np
import pytest

from cosmocore.buffer import CosmoBuffer, Salience, TrajectoryBatch
from cosmocore.buffer import priority as rules
from cosmocore.config import BufferConfig
from cosmocore.errors import InputError


def _batch(labels, entropy=0.0, version=3):
    labels = np.asarray(labels)
    n = len(labels)
    lengths = (labels % 3 + 1).astype(np.int64)  # 1..3 tokens, so rows differ in length
    tokens = np.concatenate([np.full(k, label, np.int32) for k, label in zip(lengths, labels, strict=True)])
    return TrajectoryBatch(
        prompt_ids=tokens.copy(), prompt_lengths=lengths, completion_ids=tokens + 1000, completion_lengths=lengths,
        behaviour_logprobs=-tokens.astype(np.float32) / 100, reward=labels.astype(np.float32),
        policy_version=np.broadcast_to(np.int64(version), n).copy(),
        entropy=np.broadcast_to(np.float32(entropy), n).copy(), task_names=("even", "odd"),
        task_index=(labels % 2).astype(np.int32), features=np.stack([labels, -labels], 1).astype(np.float32))


def _salience(td, valence, arousal):
    return Salience(np.asarray(td, float), np.asarray(valence, float), np.asarray(arousal, float))


def _buffer(capacity=64, **changes):
    return CosmoBuffer(BufferConfig(capacity=capacity, **changes))


def _labels(batch):
    return batch.trajectories.reward.astype(int)


def _chi2(counts, expected):
    return float((((counts - expected) ** 2) / expected).sum())


# three ordinary items and two Dream Queue members (|v| > 0.5, a > 0.7); none prunable (a >= 0.3)
TD = [0.1, 0.5, 1.0, 0.2, 0.4]
VALENCE = [0.3, 0.0, -0.4, -0.9, 0.8]
AROUSAL = [0.4, 0.5, 0.6, 0.8, 0.9]


def _five():
    buf = _buffer()
    buf.add(_batch(range(5)), _salience(TD, VALENCE, AROUSAL))
    return buf


def _expected_weights(alpha=0.6):
    p = rules.priority(np.array(TD, np.float32), np.array(VALENCE, np.float32), np.array(AROUSAL, np.float32))
    return p ** alpha, np.array([False, False, False, True, True])


def _draw(sampler, n, rounds):
    return np.concatenate([_labels(sampler(n)) for _ in range(rounds)])


def test_sampling_frequencies_follow_priority_to_the_alpha_for_members_and_non_members_alike():
    buf = _five()
    weights, _ = _expected_weights()  # plain PER: no factor for Dream Queue members
    counts = np.bincount(_draw(buf.sample, 1000, 40), minlength=5)
    assert _chi2(counts, weights / weights.sum() * 40_000) < 18.5  # 4 degrees of freedom, p ~ 0.001


def test_sample_dream_draws_only_members_in_proportion_to_p_alpha():
    buf = _five()
    base, dream = _expected_weights()
    counts = np.bincount(_draw(buf.sample_dream, 1000, 20), minlength=5)
    assert counts[~dream].sum() == 0
    assert _chi2(counts[dream], base[dream] / base[dream].sum() * 20_000) < 10.8  # 1 dof, p ~ 0.001


def test_mixed_batch_draws_80_percent_from_the_dream_queue_and_20_percent_uniformly():
    buf = _buffer()
    td = np.linspace(0.1, 1.0, 20)
    dream = np.arange(20) < 10  # items 0-9 are members
    buf.add(_batch(range(20)), _salience(td, np.where(dream, -0.9, 0.3), np.where(dream, 0.9, 0.5)))
    base = rules.priority(td.astype(np.float32), np.where(dream, -0.9, 0.3).astype(np.float32),
                          np.where(dream, 0.9, 0.5).astype(np.float32)) ** 0.6
    batches = [buf.sample_mixed(10, 0.8) for _ in range(2000)]
    assert all(b.from_dream.sum() == 8 and b.from_dream[:8].all() for b in batches)
    dream_rows = np.concatenate([_labels(b)[b.from_dream] for b in batches])
    uniform_rows = np.concatenate([_labels(b)[~b.from_dream] for b in batches])
    assert dream_rows.max() < 10
    counts = np.bincount(dream_rows, minlength=10)
    assert _chi2(counts, base[:10] / base[:10].sum() * len(dream_rows)) < 27.9  # 9 dof, p ~ 0.001
    assert _chi2(np.bincount(uniform_rows, minlength=20), np.full(20, len(uniform_rows) / 20)) < 43.8  # 19 dof
    first = batches[0]
    p_dream = np.where(dream, base / base[:10].sum(), 0.0)[_labels(first)]
    assert first.probs == pytest.approx(0.8 * p_dream + 0.2 / 20)
    raw = (20 * first.probs) ** -first.beta
    assert first.is_weights == pytest.approx(raw / raw.mean())


def test_mixed_batch_falls_back_to_uniform_rows_when_the_queue_is_small_or_empty():
    buf = _five()
    assert buf.sample_mixed(10, 0.8).from_dream.sum() == 2  # only two members: two dream rows
    empty = _buffer()
    empty.add(_batch(range(4)), _salience([0.1] * 4, [0.3] * 4, [0.5] * 4))
    batch = empty.sample_mixed(10, 0.8)
    assert not batch.from_dream.any() and batch.is_weights == pytest.approx(np.ones(10))
    with pytest.raises(ValueError, match="Dream Queue is empty"):
        empty.sample_dream(3)


def test_is_weights_are_the_hand_computed_per_weights_divided_by_their_batch_mean():
    buf = _buffer(beta0=0.5, beta_steps=10**9)
    buf.add(_batch(range(3)), _salience([0.0, 1.0, 3.0], [0, 0, 0], [0.5, 0.5, 0.5]))
    batch = buf.sample(20)
    p = np.array([1e-4, 1.0 + 1e-4, 3.0 + 1e-4]) ** 0.6
    probs = p / p.sum()
    raw = (3 * probs[_labels(batch)]) ** -0.5
    assert batch.probs == pytest.approx(probs[_labels(batch)])
    assert batch.is_weights == pytest.approx(raw / raw.mean())
    assert batch.beta == 0.5


def test_a_batch_mean_importance_weight_is_one():
    buf = _buffer(beta0=0.7)
    buf.add(_batch(range(20)), _salience(np.linspace(0, 2, 20), np.linspace(-1, 1, 20), np.linspace(0.3, 1, 20)))
    for sampler in (buf.sample, buf.sample_dream, buf.sample_mixed, buf.sample_uniform):
        weights = sampler(32).is_weights
        assert weights.mean() == pytest.approx(1.0, abs=1e-12)
    assert buf.sample(32).is_weights.std() > 0  # prioritised rows are reweighted, not all set to 1


def test_beta_zero_replays_with_every_weight_one():
    buf = _buffer(beta0=0.0)
    buf.add(_batch(range(5)), _salience(TD, VALENCE, AROUSAL))
    assert buf.sample(16).is_weights.tolist() == [1.0] * 16  # the first call: beta is exactly beta0


def test_beta_rises_by_one_step_per_sampling_call_to_one():
    buf = _buffer(beta0=0.4, beta_steps=4)
    buf.add(_batch(range(2)), _salience([0.5, 0.5], [0, 0], [0.5, 0.5]))
    betas = [buf.sample(2).beta, buf.sample_uniform(2).beta, buf.sample_mixed(2).beta, buf.sample(2).beta,
             buf.sample(2).beta, buf.sample(2).beta]
    assert betas == pytest.approx([0.4, 0.55, 0.7, 0.85, 1.0, 1.0])


def test_sampled_rows_carry_the_payload_and_components_that_were_stored():
    buf = _five()
    batch = buf.sample(50)
    for i in range(len(batch)):
        item, label = batch.trajectories.item(i), int(batch.trajectories.reward[i])
        k = label % 3 + 1
        assert item.prompt_ids.tolist() == [label] * k and item.completion_ids.tolist() == [label + 1000] * k
        assert item.behaviour_logprobs == pytest.approx([-label / 100] * k)
        assert item.task_id == ("even", "odd")[label % 2] and item.policy_version == 3
        assert item.features.tolist() == [label, -label]
        assert batch.salience.td[i] == pytest.approx(TD[label]) and batch.in_dream[i] == (label >= 3)


def test_a_batch_of_another_feature_width_is_refused_and_leaves_the_buffer_as_it_was():
    buf = _five()
    wider = dataclasses.replace(_batch([7]), features=np.zeros((1, 3), np.float32))
    with pytest.raises(ValueError, match=r"width 3 .* width 2"):
        buf.add(wider, _salience([0.1], [0.0], [0.5]))
    assert len(buf) == 5 and buf.stats().inserted == 5


def test_update_counts_dream_joins_and_leaves():
    buf = _buffer()
    # 0: a member whose arousal falls; 1: joins; 2: a member that becomes routine (pruned); 3: stays out
    ids = buf.add(_batch(range(4)), _salience([0.1] * 4, [-0.9, 0.8, 0.6, 0.3], [0.9, 0.5, 0.9, 0.5])).ids
    result = buf.update(ids, np.full(4, 0.2), valence=np.array([-0.9, 0.8, 0.1, 0.3]),
                        arousal=np.array([0.5, 0.9, 0.1, 0.5]))
    assert (result.joined, result.left, result.pruned, result.applied) == (1, 2, 1, 3)
    assert buf.dream_size == 1
    assert buf.update(ids[:2], np.full(2, 0.3)).joined == 0  # no change of membership: nothing counted
    stats = buf.stats()
    assert (stats.dream_joins, stats.dream_leaves) == (1, 2)
    assert stats.metrics()["buffer/dream_joins_total"] == 1 and stats.metrics()["buffer/dream_leaves_total"] == 2


def test_expire_deletes_exactly_the_items_older_than_the_version():
    buf = _buffer()
    member = _salience([0.1], [-0.9], [0.9])
    old = [buf.add(_batch([v], version=v), member if v == 1 else _salience([0.1], [0.0], [0.5])).ids[0]
           for v in (1, 2, 3, 4)]
    assert buf.dream_size == 1
    assert buf.expire(3) == 2  # versions 1 (a Dream Queue member, deleted all the same) and 2
    assert buf.slots.resolve(np.array(old))[1].tolist() == [False, False, True, True]
    assert buf.dream_size == 0 and set(_labels(buf.sample_uniform(50)).tolist()) == {3, 4}
    assert buf.expire(3) == 0 and buf.stats().expired == 2 and buf.stats().metrics()["buffer/expired"] == 2


def test_prune_bin_deletes_routine_items_at_insert_unless_their_entropy_exempts_them():
    buf = _buffer()
    salience = _salience([0.05, 0.05, 0.05], [0.1, 0.1, -0.9], [0.1, 0.1, 0.1])
    routine = buf.add(_batch([0, 1, 2], entropy=0.2), salience)
    curious = buf.add(_batch([3, 4, 5], entropy=0.31), salience)
    assert routine.pruned.tolist() == [True, True, False] and (routine.ids[:2] == -1).all()
    assert not curious.pruned.any()
    assert len(buf) == 4 and buf.stats().pruned_at_insert == 2 and buf.stats().inserted == 6


def test_an_item_whose_update_makes_it_routine_is_pruned_and_its_id_goes_stale():
    buf = _buffer()
    ids = buf.add(_batch([0, 1]), _salience([0.5, 0.5], [0.1, 0.1], [0.9, 0.9])).ids
    result = buf.update(ids, np.array([0.01, 0.9]), arousal=np.array([0.1, 0.9]))
    assert (result.applied, result.pruned, result.stale) == (1, 1, 0)
    assert len(buf) == 1 and buf.stats().pruned_on_update == 1
    assert buf.update(ids[:1], np.array([1.0])).stale == 1


def test_prune_existing_deletes_exactly_the_newly_prunable_non_members():
    buf = _buffer(prune_valence=0.2, prune_arousal=0.3)
    valence = [0.1, 0.4, 0.4, 0.6, 0.45, 0.8]
    arousal = [0.2, 0.4, 0.4, 0.8, 0.85, 0.6]
    entropy = [0.0, 0.0, 0.9, 0.0, 0.0, 0.0]  # item 2 is curious: exempt
    ids = buf.add(_batch(range(6), entropy=entropy), _salience([0.1] * 6, valence, arousal)).ids
    assert ids[0] == -1 and (ids[1:] >= 0).all()  # item 0 was prunable already: never stored
    buf.set_prune_thresholds(valence=0.7, arousal=0.9)
    # newly prunable: 1 and 4; not 2 (entropy), 3 (a Dream Queue member), 5 (|v| = 0.8)
    assert buf.prune_existing() == 2
    assert buf.slots.resolve(ids[1:])[1].tolist() == [False, True, True, False, True]
    assert buf.stats().pruned_by_sweep == 2 and buf.prune_existing() == 0


def test_raised_prune_thresholds_apply_to_new_items_and_to_a_sweep_of_stored_ones():
    buf = _buffer()
    stored = buf.add(_batch([0, 1]), _salience([0.1, 0.1], [0.4, 0.9], [0.4, 0.9]))
    assert not stored.pruned.any()
    buf.set_prune_thresholds(valence=0.5, arousal=0.5)
    assert buf.add(_batch([2]), _salience([0.1], [0.4], [0.4])).pruned.all()
    assert buf.prune_existing() == 1 and len(buf) == 1  # item 0 now meets the rule; item 1 is a member
    assert buf.stats().pruned == 2
    with pytest.raises(InputError, match="prune_valence"):
        buf.set_prune_thresholds(valence=1.5)


def test_dream_members_are_never_pruned_even_when_the_thresholds_overlap():
    buf = _buffer(prune_valence=1.0, prune_arousal=1.0)
    result = buf.add(_batch([0, 1]), _salience([0.1, 0.1], [0.9, 0.1], [0.9, 0.1]))
    assert result.pruned.tolist() == [False, True] and result.dream.tolist() == [True, False]


def test_the_prune_bin_can_be_switched_off():
    buf = _buffer(prune=False)
    result = buf.add(_batch([0, 1]), _salience([0.1, 0.1], [0.9, 0.0], [0.9, 0.0]))
    assert not result.pruned.any() and len(buf) == 2


def test_membership_is_measured_even_without_eviction_protection():
    buf = _buffer(protect_dream=False)
    result = buf.add(_batch(range(5)), _salience(TD, VALENCE, AROUSAL))
    assert result.dream.tolist() == [False, False, False, True, True] and buf.dream_size == 2
    assert set(_labels(buf.sample_dream(50)).tolist()) == {3, 4}
    assert buf.sample_mixed(10, 0.8).from_dream.sum() == 2


def test_without_eviction_protection_members_leave_by_priority_alone():
    buf = _buffer(capacity=3, protect_dream=False)
    buf.add(_batch(range(3)), _salience([0.0, 0.0, 2.0], [-0.9, -0.9, 0.0], [0.9, 0.95, 0.5]))
    buf.add(_batch([10]), _salience([3.0], [0.0], [0.5]))  # member 0 has the lowest priority: it goes
    assert set(_labels(buf.sample_uniform(200)).tolist()) == {1, 2, 10}
    assert buf.stats().evicted_dream == 1 and buf.dream_size == 1


def test_a_full_buffer_evicts_the_lowest_priorities_first():
    buf = _buffer(capacity=4)
    buf.add(_batch(range(4)), _salience([0.4, 0.1, 0.3, 0.2], [0] * 4, [0.5] * 4))
    result = buf.add(_batch([10, 11]), _salience([0.05, 0.9], [0, 0], [0.5, 0.5]))
    assert result.evicted == 2 and buf.stats().evicted == 2
    assert set(_labels(buf.sample_uniform(300)).tolist()) == {0, 2, 10, 11}  # 1 and 3 had the lowest


def test_dream_members_are_protected_from_eviction_until_nothing_else_is_left():
    buf = _buffer(capacity=3)
    buf.add(_batch(range(3)), _salience([0.0, 0.0, 2.0], [-0.9, -0.9, 0.0], [0.9, 0.95, 0.5]))
    buf.add(_batch([10]), _salience([0.0], [-0.9], [0.8]))  # the lowest stored ones are members: 2 goes
    assert set(_labels(buf.sample_uniform(200)).tolist()) == {0, 1, 10}
    buf.add(_batch([11]), _salience([5.0], [0.0], [0.5]))  # only members left: the lowest member (10) goes
    assert set(_labels(buf.sample_uniform(200)).tolist()) == {0, 1, 11}
    assert buf.stats().evicted_dream == 1


def test_updates_naming_evicted_items_are_ignored_and_counted():
    buf = _buffer(capacity=2)
    old = buf.add(_batch([0, 1]), _salience([0.1, 0.2], [0, 0], [0.5, 0.5])).ids
    new = buf.add(_batch([2]), _salience([0.3], [0], [0.5])).ids  # evicts item 0, reusing its slot
    result = buf.update(np.array([old[0], new[0]]), np.array([9.0, 0.4]))
    assert (result.applied, result.stale) == (1, 1) and buf.stats().stale_updates == 1
    batch = buf.sample(100)
    assert batch.salience.td[_labels(batch) == 2] == pytest.approx(0.4)  # not 9.0 from the stale id


def test_duplicate_ids_in_one_update_take_the_last_value():
    buf = _buffer()
    ids = buf.add(_batch([0, 1]), _salience([0.1, 0.1], [0, 0], [0.5, 0.5])).ids
    assert buf.update(np.array([ids[0], ids[1], ids[0]]), np.array([0.5, 0.2, 0.7])).applied == 2
    batch = buf.sample(100)
    assert batch.salience.td[_labels(batch) == 0] == pytest.approx(0.7)


def test_periodic_rebuild_removes_drift_from_the_sum_tree():
    buf = _buffer(rebuild_every=3)
    ids = buf.add(_batch(range(5)), _salience(TD, VALENCE, AROUSAL)).ids
    tree = buf.weights.current()
    exact = tree.total()
    tree.sums[-1][1] += 1e-3  # simulated drift in a node the updates below do not touch
    tree._prefix = None
    for _ in range(2):
        buf.update(ids[:1], np.array([TD[0]], np.float32))
    assert buf.weights.current().total() != exact  # not yet rebuilt
    buf.update(ids[:1], np.array([TD[0]], np.float32))
    assert buf.weights.current().total() == exact


def _busy_buffer():
    buf = _buffer(capacity=40, eviction_pool=8)
    rng = np.random.default_rng(1)
    for start in range(0, 90, 15):
        n = 15
        buf.add(_batch(range(start, start + n), entropy=0.1, version=start // 15),
                _salience(rng.normal(size=n), rng.uniform(-1, 1, n), rng.uniform(0, 1, n)))
        batch = buf.sample_mixed(8)
        buf.update(batch.ids, rng.normal(size=8), arousal=rng.uniform(0, 1, 8))
    buf.set_prune_thresholds(arousal=0.35)
    buf.expire(3)
    return buf


def _sequence(buf):
    out = []
    for sampler in (buf.sample, buf.sample_mixed, buf.sample_uniform, buf.sample_dream):
        batch = sampler(16)
        out.append((batch.ids.tolist(), batch.is_weights.tolist(), _labels(batch).tolist(),
                    batch.trajectories.features.tolist()))
        buf.update(batch.ids, np.linspace(0, 1, 16))
    buf.add(_batch(range(200, 230)), _salience(np.linspace(0, 1, 30), np.zeros(30), np.full(30, 0.5)))
    out.append(buf.sample(16).ids.tolist())
    return out


def _counts(buf):
    return dataclasses.replace(buf.stats(), nbytes=0)  # a loaded arena has no spare room: fewer bytes


def test_a_loaded_buffer_draws_the_same_samples_as_the_saved_one(tmp_path):
    buf = _busy_buffer()
    held_ids = buf.sample(8).ids
    buf.save(tmp_path / "buffer.npz")
    loaded = CosmoBuffer.load(tmp_path / "buffer.npz")
    assert _counts(loaded) == _counts(buf) and loaded.config == buf.config
    assert loaded.slots.resolve(held_ids)[1].tolist() == buf.slots.resolve(held_ids)[1].tolist()
    assert _sequence(loaded) == _sequence(buf)
    assert _counts(loaded) == _counts(buf)


def test_features_round_trip_through_save_and_load(tmp_path):
    buf = _busy_buffer()
    buf.save(tmp_path / "buffer.npz")
    loaded = CosmoBuffer.load(tmp_path / "buffer.npz")
    live = buf.slots.members[:len(buf)]
    assert np.array_equal(loaded.payload.features[live], buf.payload.features[live])
    batch = loaded.sample_uniform(30)
    labels = _labels(batch)
    assert batch.trajectories.features.tolist() == np.stack([labels, -labels], 1).tolist()


def test_a_checkpoint_of_the_previous_format_is_refused_naming_file_and_format(tmp_path):
    path = tmp_path / "old.npz"
    _five().save(path)
    with np.load(path) as z:
        arrays = dict(z)
    meta = json.loads(bytes(arrays["meta"]).decode())
    arrays["meta"] = np.frombuffer(json.dumps({**meta, "format": "cosmocore-buffer/1"}).encode(), np.uint8)
    np.savez(path, **arrays)
    with pytest.raises(InputError, match=r"old\.npz: a cosmocore-buffer/1 checkpoint.*reads cosmocore-buffer/2"):
        CosmoBuffer.load(path)


def test_saving_is_atomic_a_failed_write_leaves_the_previous_checkpoint(tmp_path, monkeypatch):
    buf = _busy_buffer()
    path = tmp_path / "buffer.npz"
    buf.save(path)
    before = path.read_bytes()
    buf.add(_batch([500]), _salience([1.0], [0.0], [0.5]))

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken)
    with pytest.raises(OSError, match="disk full"):
        buf.save(path)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["buffer.npz"]


def test_loading_something_that_is_not_a_checkpoint_is_refused(tmp_path):
    with pytest.raises(InputError, match="not found"):
        CosmoBuffer.load(tmp_path / "missing.npz")
    np.savez(tmp_path / "other.npz", meta=np.frombuffer(b'{"format": "x"}', np.uint8))
    with pytest.raises(InputError, match="not a cosmocore-buffer"):
        CosmoBuffer.load(tmp_path / "other.npz")


@pytest.mark.parametrize(("field", "value"), [("capacity", 0), ("priority_eps", 0.0), ("beta0", 1.5),
                                              ("dream_arousal", -0.1), ("prune_entropy", -1.0),
                                              ("prune_entropy", 1.5), ("eviction_pool", 0)])
def test_impossible_buffer_settings_are_refused_naming_the_field(field, value):
    with pytest.raises(InputError, match=field):
        BufferConfig(**{field: value})


def test_stats_and_memory_report_count_what_happened():
    buf = _busy_buffer()
    stats, memory = buf.stats(), buf.memory()
    assert stats.size == len(buf) == memory.items and stats.dream_size == int(buf.table.dream.sum())
    assert stats.evicted > 0 and stats.samples == 6 and stats.updates == 6 and stats.expired > 0
    metrics = stats.metrics()
    assert metrics["buffer/size"] == stats.size and metrics["buffer/occupancy"] == stats.size / 40
    assert memory.fixed_per_slot > 0 and memory.per_item > memory.fixed_bytes / memory.items
