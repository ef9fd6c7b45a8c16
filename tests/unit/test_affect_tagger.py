"""The tagger: output ranges, parameter count, arousal normalisation, its loss, learning, save/load."""

import math

import numpy as np
import pytest
import torch

from cosmocore.affect.arousal import ArousalScale, arousal_targets, normalised_arousal, update_scale
from cosmocore.affect.checkpoint import WEIGHTS_FILE, load_tagger, save_tagger
from cosmocore.affect.features import FEATURE_DIM, feature_matrix
from cosmocore.affect.scold import scold_labels
from cosmocore.affect.tagger import AffectiveTagger, overhead_ratio, tag, tagger_param_count
from cosmocore.affect.training import TaggerTrainer, tagger_loss
from cosmocore.config import AffectConfig
from cosmocore.errors import InputError
from cosmocore.types import STATUSES, AffectTag, Feedback


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """Tiny matrices: with 2 cores shared by other processes, torch's thread pool only spins (25x slower)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _inputs(batch=8, prompt_dim=16, code_dim=16, seed=0):
    rng = np.random.default_rng(seed)
    prompt = rng.normal(size=(batch, prompt_dim)).astype(np.float32)
    code = rng.normal(size=(batch, code_dim)).astype(np.float32)
    feedbacks = [Feedback(0.0, STATUSES[i % len(STATUSES)], 0.5, 1.0) for i in range(batch)]
    return prompt, code, feature_matrix(feedbacks), feedbacks


def test_outputs_stay_in_range_even_for_huge_embeddings():
    torch.manual_seed(0)
    tagger = AffectiveTagger(16, 16)
    prompt, code, features, _ = _inputs()
    valence, arousal = tagger(torch.tensor(prompt) * 1e4, torch.tensor(code) * -1e4, torch.tensor(features))
    assert valence.shape == arousal.shape == (8,)
    assert bool(((valence >= -1) & (valence <= 1)).all()) and bool(((arousal >= 0) & (arousal <= 1)).all())
    tags = tag(tagger, prompt, code, features)
    assert len(tags) == 8 and all(isinstance(t, AffectTag) for t in tags)
    with torch.no_grad():
        direct, _ = tagger(*map(torch.tensor, (prompt, code, features)))
    assert tags[0].valence == pytest.approx(float(direct[0]))


def test_parameter_count_follows_the_documented_formula():
    # D = 16 + 16 + 13 = 45 != 512: projection 45 * 512 + 512, then 512 * 128 + 128 + 128 * 2 + 2
    assert tagger_param_count(45) == 512 * 45 + 66434 == 89474
    assert AffectiveTagger(16, 16).param_count() == 89474
    # D = 250 + 249 + 13 = 512: no projection, the paper's 512 -> 128 -> 2
    plain = AffectiveTagger(250, 249)
    assert plain.param_count() == tagger_param_count(512) == 65922
    assert isinstance(plain.project, torch.nn.Identity)
    assert overhead_ratio(88450, 884500) == pytest.approx(0.1)
    with pytest.raises(ValueError):
        overhead_ratio(1, 0)


def test_arousal_scale_is_a_bias_corrected_running_rms():
    # decay 0.5, TD (1, -3): batch mean TD^2 = 5; m = 0.5 * 5 = 2.5, w = 0.5 -> rms = sqrt(5)
    scale = update_scale(ArousalScale(), torch.tensor([1.0, -3.0]), 0.5)
    assert scale.rms == pytest.approx(math.sqrt(5.0)) and scale.batches == 1
    # next batch TD (2): m = 0.5 * 2.5 + 0.5 * 4 = 3.25, w = 0.75 -> rms^2 = 13 / 3
    scale = update_scale(scale, torch.tensor([2.0]), 0.5)
    assert scale.rms == pytest.approx(math.sqrt(13 / 3))
    assert update_scale(scale, torch.tensor([]), 0.5) == scale


def test_arousal_target_is_abs_td_over_width_times_rms_clipped_to_one():
    targets, scale = arousal_targets(torch.tensor([1.0, -3.0]), ArousalScale(), 0.5, 2.0)
    # rms sqrt(5), width 2: |TD| / (2 sqrt 5) = 0.2236, 0.6708
    assert targets.tolist() == pytest.approx([1 / (2 * math.sqrt(5)), 3 / (2 * math.sqrt(5))], rel=1e-5)
    assert normalised_arousal(torch.tensor([100.0, -100.0]), scale, 2.0).tolist() == [1.0, 1.0]
    zero_targets, _ = arousal_targets(torch.zeros(3), ArousalScale(), 0.5, 2.0)
    assert zero_targets.tolist() == [0.0, 0.0, 0.0]  # exact predictions: calm, not NaN


def test_tagger_loss_matches_hand_values():
    loss = tagger_loss(
        valence=torch.tensor([0.5, -0.5]),
        arousal=torch.tensor([0.2, 0.4]),
        scold=torch.tensor([1.0, -1.0]),  # MSE 0.25
        arousal_target=torch.tensor([0.0, 1.0]),  # MSE (0.04 + 0.36) / 2 = 0.2
        weights=[torch.tensor([[1.0, 2.0]]), torch.tensor([[3.0]])],  # 1 + 4 + 9 = 14
        l2=0.01,
        arousal_weight=2.0,
    )
    assert loss.valence.item() == pytest.approx(0.25)
    assert loss.arousal.item() == pytest.approx(0.2)
    assert loss.l2.item() == pytest.approx(14.0)
    assert loss.total.item() == pytest.approx(0.25 + 2.0 * 0.2 + 0.01 * 14.0)


def test_tagger_learns_status_valence_and_td_arousal():
    torch.manual_seed(0)
    prompt, code, features, feedbacks = _inputs(batch=32, seed=1)
    scold = scold_labels(feedbacks, ["t"] * 32, ["c"] * 32)
    td = np.linspace(-1.0, 1.0, 32).astype(np.float32) * (features[:, 1] + 0.5)  # depends on the status
    trainer = TaggerTrainer(AffectiveTagger(16, 16), AffectConfig(lr=3e-3, l2=1e-5, steps=1, memory=0))
    first = trainer.step(prompt, code, features, scold, td)
    for _ in range(150):
        last = trainer.step(prompt, code, features, scold, td)
    assert last.valence_loss < 0.05 * first.valence_loss
    assert last.arousal_loss < 0.5 * first.arousal_loss
    assert trainer.steps == 151 and trainer.scale.batches == 151


def test_each_batch_takes_the_configured_adam_steps_over_the_batch_and_the_recent_memory():
    torch.manual_seed(0)
    prompt, code, features, feedbacks = _inputs(batch=8, seed=1)
    scold = scold_labels(feedbacks, ["t"] * 8, ["c"] * 8)
    td = np.linspace(-1.0, 1.0, 8).astype(np.float32)
    trainer = TaggerTrainer(AffectiveTagger(16, 16), AffectConfig(steps=5, memory=12))
    for batch in range(3):
        trainer.step(prompt, code, features, scold, td)
        assert len(trainer.memory) == min(12, 8 * (batch + 1))  # the most recent rows, at most `memory`
    assert trainer.optimizer.state_dict()["state"][0]["step"].item() == 15  # 3 batches x 5 Adam steps
    assert trainer.steps == 3
    assert torch.equal(trainer.memory.scold[-8:], torch.as_tensor(scold))  # the newest batch is last


def test_save_then_load_gives_the_same_tags_and_the_same_next_step(tmp_path):
    torch.manual_seed(0)
    prompt, code, features, feedbacks = _inputs()
    scold = scold_labels(feedbacks, ["t"] * 8, ["c"] * 8)
    td = np.linspace(-1, 1, 8).astype(np.float32)
    trainer = TaggerTrainer(AffectiveTagger(16, 16), AffectConfig(lr=1e-3))
    trainer.step(prompt, code, features, scold, td)
    save_tagger(trainer, tmp_path / "ckpt")
    restored = load_tagger(tmp_path / "ckpt", AffectConfig(lr=1e-3))
    assert restored.scale == trainer.scale and restored.steps == trainer.steps
    assert tag(restored.tagger, prompt, code, features) == tag(trainer.tagger, prompt, code, features)
    after_original = trainer.step(prompt, code, features, scold, td)
    after_restored = restored.step(prompt, code, features, scold, td)
    assert after_restored == after_original  # Adam moments came back too


def test_loading_something_that_is_not_a_tagger_checkpoint_is_an_input_error(tmp_path):
    (tmp_path / WEIGHTS_FILE).write_bytes(b"not a safetensors file")
    with pytest.raises(InputError, match="not a tagger checkpoint"):
        load_tagger(tmp_path)
    with pytest.raises(InputError):
        load_tagger(tmp_path / "missing")


def test_feature_width_is_part_of_the_input():
    assert AffectiveTagger(4, 4).input_dim == 8 + FEATURE_DIM
