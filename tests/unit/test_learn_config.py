"""AffectConfig and LearnConfig: defaults are the paper's, and an impossible value names its field."""

import pytest

from cosmocore.config import AffectConfig, LearnConfig
from cosmocore.errors import InputError


def test_defaults_are_the_papers_numbers():
    learn, affect = LearnConfig(), AffectConfig()
    assert (learn.dream_fraction, learn.uniform_fraction) == pytest.approx((0.8, 0.2))
    assert learn.confidence_threshold == 0.1 and learn.lr == 1e-5
    assert (affect.proj_dim, affect.hidden) == (512, 128)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("algorithm", "dqn"),
        ("clip_eps", 0.0),
        ("gae_lambda", 1.5),
        ("dream_fraction", 1.2),
        ("is_cap", 1.1),  # must exceed 1 + clip_eps, or truncation would undo the clip
        ("staleness_cap", -1),
        ("confidence_source", "logits"),
        ("meta_temperature", 0.0),
        ("prune_valence_max", 2.0),
        ("nocturnal_every", -4),
    ],
)
def test_an_impossible_learn_setting_names_its_field(field, value):
    with pytest.raises(InputError, match=f"invalid learn setting {field}="):
        LearnConfig(**{field: value})


@pytest.mark.parametrize(
    ("field", "value"),
    [("arousal_decay", 1.0), ("arousal_width", 0.0), ("success_valence", 1.5), ("lr", 0.0), ("l2", -1.0)],
)
def test_an_impossible_affect_setting_names_its_field(field, value):
    with pytest.raises(InputError, match=f"invalid affect setting {field}="):
        AffectConfig(**{field: value})
