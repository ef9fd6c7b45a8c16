"""The sum tree (cosmocore.buffer.sumtree): totals, prefix search and sampling frequencies."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cosmocore.buffer.sumtree import DerivedTree, SumTree

# (group, flat_top, slice_span): a flat top only; binary levels under it; the buffer's own shape;
# scattered writes forced through the per-level gathers
SHAPES = [(1, 64, 4096), (2, 1, 4096), (2, 2, None), (4, 1, None), (8, 4096, 4096)]
LEAVES = [1.0, 2.0, 3.0, 4.0, 0.0, 5.0, 0.0, 0.0]  # running sums 1 3 6 10 10 15 15 15


def _tree(shape, capacity=8):
    group, flat_top, slice_span = shape
    return SumTree(capacity, flat_top=flat_top, group=group, slice_span=slice_span)


def _filled(shape):
    tree = _tree(shape)
    tree.set(np.arange(8), np.array(LEAVES))
    return tree


@pytest.mark.parametrize("shape", SHAPES)
def test_total_is_the_hand_computed_sum_of_leaves(shape):
    tree = _filled(shape)
    assert tree.total() == 15.0
    tree.set(np.array([1, 5]), np.array([0.5, 0.0]))
    assert tree.total() == 1 + 0.5 + 3 + 4


@pytest.mark.parametrize("shape", SHAPES)
def test_prefix_search_returns_the_leaf_where_the_running_sum_first_exceeds_the_value(shape):
    tree = _filled(shape)
    values = np.array([0.0, 0.99, 1.0, 2.5, 3.0, 9.99, 10.0, 14.99])
    assert tree.find(values).tolist() == [0, 0, 1, 1, 2, 3, 5, 5]  # zero-weight leaf 4 is skipped


@pytest.mark.parametrize("shape", SHAPES)
def test_scattered_update_moves_the_prefix_boundaries(shape):
    tree = _filled(shape)
    tree.set(np.array([0, 6]), np.array([0.0, 2.0]))  # running sums 0 2 5 9 9 14 16 16
    assert tree.find(np.array([0.0, 1.99, 2.0, 13.99, 14.0, 15.99])).tolist() == [1, 1, 2, 5, 6, 6]


@pytest.mark.parametrize("shape", SHAPES)
def test_sampling_frequencies_match_leaf_weights(shape):
    tree = _filled(shape)
    n = 60_000
    counts = np.bincount(tree.sample(n, np.random.default_rng(0)), minlength=8)
    expected = np.array(LEAVES) / 15.0 * n
    assert counts[np.array(LEAVES) == 0].sum() == 0
    nonzero = expected > 0
    chi2 = (((counts - expected)[nonzero]) ** 2 / expected[nonzero]).sum()
    assert chi2 < 20.5  # 5 degrees of freedom: p ~ 0.001


def test_sampling_an_all_zero_tree_is_refused():
    with pytest.raises(ValueError, match="all 0"):
        _tree(SHAPES[1]).sample(3, np.random.default_rng(0))


def test_a_million_leaf_tree_has_a_short_binary_part_under_a_flat_top():
    tree = SumTree(1_000_000)
    assert tree.height == 5 and len(tree.sums[-1]) <= 4096


_ops = st.lists(st.tuples(st.lists(st.integers(0, 39), min_size=1, max_size=12),
                          st.lists(st.sampled_from([0.0, 1.0, 2.0, 3.0, 7.0, 40.0]), min_size=12, max_size=12)),
                min_size=1, max_size=12)


@settings(max_examples=40, deadline=None)
@given(ops=_ops, shape=st.sampled_from(SHAPES))
def test_after_any_writes_the_tree_agrees_with_a_plain_cumulative_sum(ops, shape):
    """Integer weights keep every sum exact, so the tree must agree with numpy to the last bit."""
    tree = _tree(shape, capacity=40)
    leaves = np.zeros(40)
    for slots, values in ops:
        idx = np.array(slots)
        tree.set(idx, np.array(values[:len(idx)]))
        leaves[idx] = values[:len(idx)]  # duplicates: the last write wins, as in the tree
    assert tree.total() == leaves.sum()
    if leaves.sum() > 0:
        values = np.linspace(0, leaves.sum(), 23, endpoint=False)
        assert tree.find(values).tolist() == np.searchsorted(np.cumsum(leaves), values, side="right").tolist()
    before = [level.copy() for level in tree.sums]
    tree.rebuild()
    assert all(np.array_equal(a, b) for a, b in zip(before, tree.sums, strict=True))


def test_derived_tree_applies_marked_changes_only_when_read():
    source = np.array(LEAVES)
    derived = DerivedTree(_tree(SHAPES[1]), lambda slots: source.copy() if slots is None else source[slots],
                          limit=3)
    assert derived.current().total() == 15.0  # first read builds it whole
    source[0] = 10.0
    assert derived.current().total() == 15.0  # not marked: not seen
    derived.mark(np.array([0]))
    assert derived.current().total() == 24.0
    source[:] = 1.0
    derived.mark(np.arange(8))  # past the limit: rebuilt whole on the next read
    assert derived.current().total() == 8.0
