"""Attributions tested for meaning: on a task whose answer is known (the class is the
shape in one quadrant, a distractor sits in another), Grad-CAM and integrated gradients
must point at the shape's quadrant; and the mechanics every model relies on."""

from __future__ import annotations

import numpy as np
import torch
from quadrants import fresh_model, make_images, quadrant_of

from googlenet.explain.attributions import integrated_gradients
from googlenet.explain.gradcam import grad_cam
from googlenet.models import build_model
from googlenet.recipe import ModelRecipe, TransferRecipe

HELD_OUT = 200
REQUIRED = 0.9  # of held-out images whose peak is in the shape's quadrant


def _hits(cams, quadrants) -> float:
    found = [quadrant_of(*c.peak()) for c in cams]
    return float(np.mean([f == q for f, q in zip(found, quadrants, strict=True)]))


def test_grad_cam_peaks_in_the_quadrant_that_decides_the_class(quadrant_net):
    x, labels, where = make_images(HELD_OUT, seed=2)
    with torch.no_grad():
        accuracy = float((quadrant_net(x).argmax(1) == labels).float().mean())
    assert accuracy >= 0.95, f"the network did not learn the task ({accuracy:.2f})"
    for layer in ("block_b", "block_a", "block_b.b3"):  # blocks and a branch
        hits = _hits(grad_cam(quadrant_net, x, layer), where)
        assert hits >= REQUIRED, f"Grad-CAM at {layer}: {hits:.0%} in the shape's quadrant"
    # The same network untrained looks at the shape no more than at the distractor: the
    # score above comes from what was learned, not from where the bright pixels are.
    untrained = _hits(grad_cam(fresh_model().eval(), x, "block_b"), where)
    assert untrained < REQUIRED


def test_integrated_gradients_put_their_mass_on_the_shape(quadrant_net):
    x, labels, where = make_images(20, seed=3)
    hits = []
    for i in range(len(x)):
        ig = integrated_gradients(quadrant_net, x[i:i + 1], torch.zeros_like(x[i:i + 1]),
                                  int(labels[i]), steps=8)
        mass = ig.heatmap.cells
        quads = [float(mass[r:r + 16, c:c + 16].sum()) for r in (0, 16) for c in (0, 16)]
        hits.append(int(np.argmax(quads)) == where[i])
    assert np.mean(hits) >= REQUIRED


def test_integrated_gradients_are_complete_in_the_limit(quadrant_net):
    # Completeness: the attributions add up to score(input) - score(baseline); the
    # midpoint sum gets there as the steps grow.
    x, labels, _ = make_images(1, seed=4)
    baseline = torch.zeros_like(x)
    coarse = integrated_gradients(quadrant_net, x, baseline, int(labels[0]), steps=2)
    fine = integrated_gradients(quadrant_net, x, baseline, int(labels[0]), steps=64)
    assert fine.score_gap == coarse.score_gap
    assert fine.error < 0.01 and fine.error <= coarse.error


def test_grad_cam_on_a_frozen_backbone_cut_and_per_image_targets():
    # A fine-tuned model's backbone has no trainable parameter: the gradient must still
    # reach the feature maps (it flows from the input).
    model = build_model(TransferRecipe(ModelRecipe("googlenet_mnist", width=0.25),
                                       "inception_4a", num_classes=3)).eval()
    assert not any(p.requires_grad for p in model.features.parameters())
    x = torch.rand(2, 1, 28, 28)
    cams = grad_cam(model, x, "inception_3b.branch_5x5", target=[0, 2])
    assert [c.target for c in cams] == [0, 2]
    assert all(c.heat.shape == (28, 28) and 0 <= float(c.heat.min()) <= float(c.heat.max()) <= 1
               for c in cams)
    assert model.training is False
