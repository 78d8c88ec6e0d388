"""The fast-training tricks of the fmnist-fast preset, one by one: alternating flip, the
BN-bias learning rate, BN momentum, the whitened stem; each checked for what it does,
not only that it runs."""

from types import SimpleNamespace

import pytest
import torch
from torch import nn

from googlenet.errors import ConfigError
from googlenet.models import create_model
from googlenet.train import TrainConfig, fit
from googlenet.train import engine as engine_mod
from googlenet.train.distributed import DistInfo
from googlenet.train.inputs import AlternatingFlip, epoch_indices, whitening_sample
from googlenet.train.schedule import build_optimizer, param_groups, set_bn_momentum, set_lr
from googlenet.train.whiten import first_conv, patch_whitening, whiten_stem


def test_alternating_flip_mirrors_each_image_once_in_every_two_epochs():
    flips = AlternatingFlip(1000, seed=5)
    idx = torch.randperm(1000)
    epochs = [flips.mask(idx, e) for e in range(4)]
    assert torch.equal(epochs[0] ^ epochs[1], torch.ones(1000, dtype=torch.bool))
    assert torch.equal(epochs[0], epochs[2]) and torch.equal(epochs[1], epochs[3])
    assert 400 < int(epochs[0].sum()) < 600  # a random half
    assert not torch.equal(AlternatingFlip(1000, seed=6).bits, flips.bits)


def test_the_trainer_hands_each_batch_the_mask_of_its_own_images(tiny_config, monkeypatch):
    cfg = tiny_config(hflip=True, alternate_flip=True, epochs=2)
    seen: list[tuple[int, torch.Tensor]] = []
    real = engine_mod.train_step

    def spy(ctx, images, targets, epoch, batch, flip=None):
        assert flip is not None and flip.shape == (images.shape[0],)
        seen.append((epoch, flip.clone()))
        return real(ctx, images, targets, epoch, batch, flip)

    monkeypatch.setattr(engine_mod, "train_step", spy)
    result = fit(cfg)
    flipper = AlternatingFlip(cfg.train_limit, cfg.seed)
    run_data = SimpleNamespace(num_train=lambda c: c.train_limit)  # all epoch_indices reads
    for epoch in range(2):
        idx = epoch_indices(run_data, cfg, epoch, DistInfo())
        got = torch.cat([f for e, f in seen if e == epoch])
        assert torch.equal(got, flipper.mask(idx[:len(got)], epoch))
    assert len(result.history) == 2


def test_alternate_flip_needs_hflip():
    with pytest.raises(ConfigError, match="alternate_flip.*hflip"):
        TrainConfig(alternate_flip=True)


def _bn_net() -> nn.Module:
    return nn.Sequential(nn.Conv2d(1, 4, 3, bias=False), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.Flatten(), nn.Linear(4 * 26 * 26, 3))


def test_bn_biases_get_their_own_learning_rate():
    net = _bn_net()
    groups = param_groups(net, 5e-4, bn_bias_lr=16.0)
    assert [len(g["params"]) for g in groups] == [2, 2, 1]  # conv+fc w | bn w, fc b | bn b
    assert groups[2]["params"][0] is net[1].bias and groups[2]["weight_decay"] == 0.0
    opt = torch.optim.SGD(groups, lr=0.1)
    set_lr(opt, 0.2)
    assert [g["lr"] for g in opt.param_groups] == [0.2, 0.2, pytest.approx(3.2)]
    # At 1x the groups are the two of runs made before the option, so those resume.
    assert [len(g["params"]) for g in param_groups(net, 5e-4)] == [2, 3]


def test_the_optimizer_of_a_config_scales_bn_biases():
    cfg = TrainConfig(bn_bias_lr=8.0)
    opt = build_optimizer(_bn_net(), cfg)
    set_lr(opt, 0.05)
    assert opt.param_groups[-1]["lr"] == pytest.approx(0.4)


def test_bn_momentum_reaches_every_bn_layer():
    model = create_model("googlenet_mnist", width=0.25)
    set_bn_momentum(model, 0.4)
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert len(bns) > 50 and all(m.momentum == 0.4 for m in bns)


def _correlated_images(n=400, size=12, seed=0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, size, size, generator=g)
    # Smooth with a box filter: neighbouring pixels become strongly correlated.
    return nn.functional.avg_pool2d(x, 3, 1, 1) * 3 + 0.5


def test_whitened_filters_decorrelate_the_patches():
    images = _correlated_images()
    model = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1, bias=False), nn.ReLU())
    assert whiten_stem(model, images) == 18  # 9 eigenvectors, both signs
    conv = first_conv(model)
    out = nn.functional.conv2d(images, conv.weight[:9])  # the + half, no padding
    feats = out.permute(1, 0, 2, 3).reshape(9, -1)
    cov = torch.cov(feats)
    values, _ = patch_whitening(images, (3, 3))
    strong = values > 1e-2  # components well above the whitening's eps
    assert torch.allclose(cov[strong][:, strong], torch.eye(int(strong.sum())), atol=0.05)
    assert torch.equal(conv.weight[9:18], -conv.weight[:9])


def test_a_stem_narrower_than_the_whitening_takes_the_leading_components():
    images = _correlated_images()
    model = nn.Conv2d(1, 6, 3)
    assert whiten_stem(model, images) == 6
    values, vectors = patch_whitening(images, (3, 3))
    lead = vectors[:3] / (values[:3] + 5e-4).sqrt().view(-1, 1, 1, 1)
    assert torch.allclose(model.weight[:3].double(), lead, atol=1e-5)


def test_whiten_stem_refuses_weights_and_wrong_channels(tmp_path):
    with pytest.raises(ConfigError, match="whiten_stem.*weights"):
        TrainConfig(whiten_stem=True, weights=str(tmp_path / "w.safetensors"))
    with pytest.raises(ConfigError, match="takes 3 channels, the images have 1"):
        whiten_stem(nn.Conv2d(3, 8, 3), torch.zeros(2, 1, 8, 8))


def test_a_run_starts_from_the_whitened_stem(tiny_config):
    cfg = tiny_config(model="googlenet_mnist", width=0.25, whiten_stem=True, epochs=1,
                      bn_momentum=0.4, bn_bias_lr=4.0, translate=1, cutout=4, hflip=True,
                      alternate_flip=True, ema_decay=0.9)
    from googlenet.train.runner import Run

    run = Run(cfg, DistInfo(), torch.device("cpu"))
    w = first_conv(run.model).weight
    k = min(9, w.shape[0] // 2)  # 3x3 gray patches: 9 components; a 1/4-width stem has 16
    assert torch.equal(w[k:2 * k], -w[:k])
    values, vectors = patch_whitening(whitening_sample(run.data, cfg), (3, 3))
    lead = vectors[:k] / (values[:k] + 5e-4).sqrt().view(-1, 1, 1, 1)
    assert torch.allclose(w[:k].double(), lead, atol=1e-4)
    assert all(m.momentum == 0.4 for m in run.model.modules()
               if isinstance(m, nn.BatchNorm2d))
    assert run.ctx.optimizer.param_groups[-1]["lr_scale"] == 4.0
