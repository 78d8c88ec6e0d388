import math

import pytest
import torch

from googlenet.data.augment import BatchAugment, sample_crop_boxes
from googlenet.data.mix import cutmix, mixup, smooth_targets, soft_target_cross_entropy
from googlenet.data.transforms import (
    center_crop,
    eval_transform,
    five_crop,
    resize,
    ten_crop,
    to_channels,
    to_float,
)
from googlenet.errors import DataError


def _batch(n=6, c=3, h=20, w=24, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (n, c, h, w), generator=g, dtype=torch.uint8)


def test_crop_boxes_respect_area_and_aspect():
    h, w = 64, 48
    boxes = sample_crop_boxes(4000, h, w, generator=torch.Generator().manual_seed(1))
    top, left, bh, bw = boxes.T
    assert (top >= 0).all() and (left >= 0).all()
    assert (top + bh <= h + 1e-9).all() and (left + bw <= w + 1e-9).all()
    area = bh * bw / (h * w)
    ratio = bw / bh
    assert area.min() >= 0.08 - 1e-9 and area.max() <= 1 + 1e-9
    assert ratio.min() >= 3 / 4 - 1e-9 and ratio.max() <= 4 / 3 + 1e-9
    assert area.mean() > 0.4  # roughly uniform in [0.08, 1], not stuck at the fallback


def test_crop_boxes_fallback_for_extreme_images():
    # A 10x200 strip: no 3/4..4/3 box of >=50% area fits, so the fallback is used.
    boxes = sample_crop_boxes(20, 10, 200, scale=(0.5, 1.0),
                              generator=torch.Generator().manual_seed(0))
    top, left, bh, bw = boxes.T
    assert torch.allclose(bh, torch.full_like(bh, 10.0))
    assert torch.allclose(bw / bh, torch.full_like(bw, 4 / 3))
    assert (left + bw <= 200).all()


def test_identity_affine_is_identity():
    x = _batch()
    out = BatchAugment(zoom_range=(1.0, 1.0)).warp(x, torch.Generator().manual_seed(0))
    assert torch.equal(out.round().to(torch.uint8), x)


@pytest.mark.parametrize("warp", [False, True])
def test_flips_are_exact(warp):
    x = _batch(n=16)
    kwargs = {"zoom_range": (1.0, 1.0)} if warp else {}
    aug = BatchAugment(hflip=True, vflip=True, mean=(0.0,), std=(1.0,), **kwargs)
    out = (aug(x, torch.Generator().manual_seed(3)) * 255).round().to(torch.uint8)
    kinds = set()
    for i in range(len(x)):
        cands = {"id": x[i], "h": x[i].flip(-1), "v": x[i].flip(-2), "hv": x[i].flip(-1, -2)}
        match = [k for k, v in cands.items() if torch.equal(out[i], v)]
        assert match, i
        kinds.add(match[0])
    assert len(kinds) >= 3  # both flips actually happen


def test_augment_shapes_dtypes_and_determinism():
    x = _batch()
    aug = BatchAugment(size=16, random_resized_crop=True, hflip=True, rotation_range=20,
                       width_shift_range=0.1, height_shift_range=0.1, shear_range=10,
                       zoom_range=0.2, brightness=0.3, contrast=0.3, saturation=0.3,
                       lighting=0.1, fill_mode="constant", cval=128)
    a = aug(x, torch.Generator().manual_seed(7))
    b = aug(x, torch.Generator().manual_seed(7))
    c = aug(x, torch.Generator().manual_seed(8))
    assert a.shape == (6, 3, 16, 16) and a.dtype == torch.float32
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert a.min() >= -1 - 1e-6 and a.max() <= 1 + 1e-6  # (x/255 - 0.5) / 0.5
    assert BatchAugment.paper(size=12)(x).shape == (6, 3, 12, 12)
    gray = BatchAugment(size=12, random_resized_crop=True, hflip=True, contrast=0.5,
                        saturation=0.5, lighting=0.1)(_batch(c=1))
    assert gray.shape == (6, 1, 12, 12)  # saturation/lighting are RGB-only: skipped
    with pytest.raises(DataError, match="3/3 values for 1 channels"):
        BatchAugment.paper(size=12)(_batch(c=1))


def test_constant_fill_and_shift():
    x = torch.full((2, 1, 8, 8), 200, dtype=torch.uint8)
    aug = BatchAugment(width_shift_range=(0.5), fill_mode="constant", cval=10.0)
    out = aug.warp(x, torch.Generator().manual_seed(0))
    assert set(out.round().unique().tolist()) <= set(range(10, 201))
    assert out.min().round() == 10  # something was shifted in from outside


def test_bad_config():
    with pytest.raises(DataError, match="fill_mode"):
        BatchAugment(fill_mode="wrap")
    with pytest.raises(DataError, match="crop scale"):
        BatchAugment(scale=(0.5, 0.1))


def test_resize_crops_and_eval():
    x = _batch(h=20, w=40)
    assert resize(x, 10).shape == (6, 3, 10, 20) and resize(x, 10).dtype == torch.uint8
    assert resize(x, (7, 9)).shape == (6, 3, 7, 9)
    assert torch.equal(center_crop(x, 10), x[..., 5:15, 15:25])
    crops = five_crop(x, 8)
    assert crops.shape == (5, 6, 3, 8, 8) and torch.equal(crops[3], x[..., 12:, 32:])
    ten = ten_crop(x, 8)
    assert ten.shape == (10, 6, 3, 8, 8) and torch.equal(ten[5], crops[0].flip(-1))
    out = eval_transform(x, 16)
    assert out.shape == (6, 3, 16, 16) and out.dtype == torch.float32
    f = to_float(torch.full((1, 3, 2, 2), 255, dtype=torch.uint8), (0.5, 0.5, 0.0), (0.5,))
    assert f[0, :, 0, 0].tolist() == [1.0, 1.0, 2.0]
    with pytest.raises(DataError, match="larger than"):
        center_crop(x, 30)


def test_mixup_cutmix_targets():
    x = to_float(_batch(n=8))
    y = torch.arange(8) % 5
    for fn in (mixup, cutmix):
        xm, t = fn(x, y, 5, smoothing=0.1, generator=torch.Generator().manual_seed(0))
        assert xm.shape == x.shape and t.shape == (8, 5)
        assert torch.allclose(t.sum(1), torch.ones(8))
        again = fn(x, y, 5, smoothing=0.1, generator=torch.Generator().manual_seed(0))
        assert torch.equal(again[0], xm) and torch.equal(again[1], t)


def test_label_smoothing_and_loss():
    y = torch.tensor([0, 2])
    t = smooth_targets(y, 4, 0.2)
    assert torch.allclose(t[0], torch.tensor([0.85, 0.05, 0.05, 0.05]))
    logits = torch.randn(2, 4)
    hard = soft_target_cross_entropy(logits, smooth_targets(y, 4))
    assert torch.allclose(hard, torch.nn.functional.cross_entropy(logits, y))
    assert torch.allclose(soft_target_cross_entropy(logits, y), hard)
    smoothed = torch.nn.functional.cross_entropy(logits, y, label_smoothing=0.2)
    assert math.isclose(soft_target_cross_entropy(logits, t).item(), smoothed.item(),
                        rel_tol=1e-5)


def test_full_area_crop_is_identity_and_half_crop_is_a_crop():
    x = _batch(h=16, w=16)
    whole = BatchAugment(random_resized_crop=True, scale=(1.0, 1.0), ratio=(1.0, 1.0))
    out = whole.warp(x, torch.Generator().manual_seed(0))
    assert torch.equal(out.round().to(torch.uint8), x)
    # a quarter-area square crop is the 8x8 box at the sampled (sub-pixel) offset
    quarter = BatchAugment(size=8, random_resized_crop=True, scale=(0.25, 0.25),
                           ratio=(1.0, 1.0))
    g = torch.Generator().manual_seed(0)
    boxes = sample_crop_boxes(len(x), 16, 16, (0.25, 0.25), (1.0, 1.0),
                              torch.Generator().manual_seed(0))
    out = quarter.warp(x, g)
    for i, (top, left, h, w) in enumerate(boxes.tolist()):
        assert h == w == 8
        expected = torch.nn.functional.grid_sample(
            x[i:i + 1].float(),
            torch.nn.functional.affine_grid(
                torch.tensor([[[0.5, 0, (left + 4) / 8 - 1], [0, 0.5, (top + 4) / 8 - 1]]]),
                [1, 3, 8, 8], align_corners=False),
            padding_mode="border", align_corners=False)
        assert torch.allclose(out[i], expected[0], atol=1e-3)


def test_to_channels():
    g = _batch(c=1)
    assert torch.equal(to_channels(g, 3)[:, 2], g[:, 0])
    rgb = torch.full((1, 3, 2, 2), 100, dtype=torch.uint8)
    assert to_channels(rgb, 1).tolist() == [[[[100, 100], [100, 100]]]]
    with pytest.raises(DataError, match="cannot convert"):
        to_channels(_batch(c=2), 3)


def _shifts_of(image: torch.Tensor, limit: int) -> list[torch.Tensor]:
    """Every whole-pixel move of a (C, H, W) image by -limit..limit, zeros moved in."""
    out = []
    for dy in range(-limit, limit + 1):
        for dx in range(-limit, limit + 1):
            padded = torch.nn.functional.pad(image, (limit, limit, limit, limit))
            h, w = image.shape[-2:]
            out.append(padded[:, limit - dy:limit - dy + h, limit - dx:limit - dx + w])
    return out


def test_translate_moves_whole_pixels_exactly_and_covers_the_range():
    x = _batch(n=64, c=1, h=12, w=12, seed=4)
    aug = BatchAugment(translate=2, fill_mode="constant", mean=(0.0,), std=(1.0,))
    out = aug(x, torch.Generator().manual_seed(0)) * 255
    seen = set()
    for img, got in zip(x.float(), out, strict=True):
        moves = _shifts_of(img, 2)
        match = [i for i, m in enumerate(moves) if torch.allclose(got, m, atol=1e-3)]
        assert match, "a translated image is not a whole-pixel move of its source"
        seen.add(match[0])
    assert len(seen) > 15  # most of the 25 moves occur in 64 draws


def test_cutout_sets_a_square_of_exactly_that_size_to_the_mean():
    x = torch.full((200, 1, 16, 16), 255, dtype=torch.uint8)
    for size in (3, 4):
        out = BatchAugment(cutout=size, mean=(0.5,), std=(0.5,))(
            x, torch.Generator().manual_seed(size))
        erased = out == 0  # the mean normalises to 0; the rest stays at 1
        assert ((out == 0) | (out == 1)).all()
        counts = erased.flatten(1).sum(1)
        assert counts.max() == size * size and counts.min() >= 1  # clipped at the border
        # A square fully inside the image is exactly size x size, as one block.
        full = erased[counts == size * size][0, 0]
        rows, cols = full.nonzero().T
        assert rows.max() - rows.min() == size - 1 and cols.max() - cols.min() == size - 1


@pytest.mark.parametrize("warp", [False, True])
def test_a_flip_mask_mirrors_exactly_the_images_it_names(warp):
    x = _batch(n=6, c=1, h=8, w=8)
    mask = torch.tensor([True, False, False, True, True, False])
    aug = BatchAugment(hflip=True, translate=0, rotation_range=0.0,
                       size=8 if warp else None, mean=(0.0,), std=(1.0,))
    out = aug(x, torch.Generator().manual_seed(0), flip=mask) * 255
    want = torch.where(mask.view(-1, 1, 1, 1), x.float().flip(-1), x.float())
    assert torch.allclose(out, want, atol=1e-3)
    with pytest.raises(DataError, match="flip mask of shape"):
        aug(x, flip=mask[:3])


def test_negative_translate_or_cutout_is_refused():
    with pytest.raises(DataError, match="translate and cutout"):
        BatchAugment(translate=-1)
    with pytest.raises(DataError, match="translate and cutout"):
        BatchAugment(cutout=-2)
