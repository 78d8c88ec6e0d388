"""DeepDream raises what it is asked to raise: a layer's activations, or one unit's."""

from __future__ import annotations

import torch
from PIL import Image

from googlenet import create_model
from googlenet.cli import main
from googlenet.explain.dream import DreamSettings, deep_dream, layer_objective, noise_image
from googlenet.models import get_model_info

SMALL = DreamSettings(octaves=2, steps=4, jitter=4)


def _model():
    torch.manual_seed(0)
    return create_model("googlenet_mnist", width=0.25).eval()


def test_dream_raises_the_layers_activation_norm_over_its_steps():
    model = _model()
    pre = get_model_info("googlenet_mnist").preprocessing
    start = noise_image(1, 28, seed=1)
    dream = deep_dream(model, pre, start, "inception_4c", settings=SMALL)
    sizes = [round(28 / SMALL.octave_scale), 28]
    assert [o.shape[-1] for o in dream.octaves] == sizes
    for steps in dream.objective:  # each octave climbs
        assert len(steps) == SMALL.steps and steps[-1] > steps[0]
    before = layer_objective(model, pre, start, "inception_4c")
    assert layer_objective(model, pre, dream.image, "inception_4c") > before
    assert dream.image.dtype == torch.uint8 and dream.image.shape == start.shape
    assert not model.training


def test_one_channel_of_a_branch_is_raised_from_noise():
    model = _model()
    pre = get_model_info("googlenet_mnist").preprocessing
    start = noise_image(1, 28, seed=2)
    layer = "inception_4c.branch_5x5"
    dream = deep_dream(model, pre, start, layer, channel=3,
                       settings=DreamSettings(octaves=1, steps=6, jitter=2))
    assert layer_objective(model, pre, dream.image, layer, 3) > \
        layer_objective(model, pre, start, layer, 3)


def test_cli_writes_the_dream_and_its_octaves(tmp_path, capsys):
    image = tmp_path / "photo.png"
    Image.fromarray(torch.randint(0, 256, (40, 50, 3), dtype=torch.uint8).numpy()).save(image)
    out = tmp_path / "dream.png"
    assert main(["dream", str(image), "--model", "googlenet_mnist", "--layer", "inception_3b",
                 "--octaves", "2", "--steps", "2", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "(random weights)" in captured.err and "inception_3b: objective" in captured.err
    assert Image.open(out).size == (28, 28)
    strip = Image.open(tmp_path / "dream-octaves.png")
    assert strip.size[1] == 160 and strip.size[0] > 2 * 160  # two octaves side by side
    # Bad requests are one line each, before any work.
    assert main(["dream", "--noise", "--model", "googlenet_mnist", "--layer",
                 "inception_3b", "--channel", "999", "--out", str(out)]) == 2
    width = create_model("googlenet_mnist").feature_channels["inception_3b"]
    assert f"channels 0..{width - 1}" in capsys.readouterr().err
    assert main(["dream", "--model", "googlenet_mnist", "--out", str(out)]) == 2
    assert "--noise" in capsys.readouterr().err
