"""timm / Cadene key maps: parity with independent forwards written from those projects'
layer order, TF-slim's background class, the key rule of timm's blocks, one-line errors,
and ``googlenet convert --from timm`` end to end (Inception-ResNet-v2 from both of its
files, feature by feature)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from googlenet import create_model
from googlenet.cli import main
from googlenet.errors import WeightsError
from googlenet.specs.inception_v4 import INCEPTION_C, STEM_3A, reduction_a
from googlenet.weights import load_model, read_meta
from googlenet.weights.sources import release
from googlenet.weights.timm_map import from_timm, timm_key_map, timm_model, timm_op_names
from tests.weights.conftest import IRV2_SIZE
from tests.weights.timm_reference import BNInceptionRef, InceptionResNetV2Ref, InceptionV4Ref
from tests.weights.tv_reference import Inception3Ref

TOL = 1e-4

IRV2_FEATURES = {
    "mixed_5b": "mixed_5b", "block35_10": "repeat", "mixed_6a": "mixed_6a",
    "block17_20": "repeat_1", "mixed_7a": "mixed_7a", "block8_9": "repeat_2",
    "block8_10": "block8", "conv_7b": "conv2d_7b",
}
"""Our feature -> the step of timm's ``forward_features`` with the same output."""


def _inputs(size: int, seed: int, n: int = 2) -> torch.Tensor:
    return torch.randn(n, 3, size, size, generator=torch.Generator().manual_seed(seed))


@pytest.fixture(scope="module")
def v4_ref() -> tuple[InceptionV4Ref, torch.Tensor, torch.Tensor]:
    # Cadene's file (timm's first) has TF-slim's 1001 classes, background first.
    ref, x = InceptionV4Ref(seed=11), _inputs(299, 12)
    with torch.no_grad():
        return ref, x, ref(x, classes=1001)


@pytest.fixture(scope="module")
def bn_ref() -> tuple[BNInceptionRef, torch.Tensor, torch.Tensor]:
    ref, x = BNInceptionRef(seed=13), _inputs(224, 14)
    with torch.no_grad():
        return ref, x, ref(x)


@dataclass(frozen=True)
class IRv2Files:
    ref: InceptionResNetV2Ref  # Cadene's layout: last_linear with 1001 classes
    timm_sd: dict[str, torch.Tensor]  # timm's hub file's
    x: torch.Tensor
    logits: torch.Tensor  # the reference's, background dropped
    files: dict[str, Path]


@pytest.fixture(scope="module")
def irv2(tmp_path_factory: pytest.TempPathFactory) -> IRv2Files:
    """Cadene's ``inceptionresnetv2-520b38e4.pth`` (``last_linear``, TF-slim's 1001
    classes) and timm's ``inception_resnet_v2.tf_in1k`` ``model.safetensors``: the same
    weights as timm re-released them, classifier ``classif`` without the background row.
    At IRV2_SIZE the 8x8 stage is 3x3, so its 1x3 / 3x1 paddings take part."""
    ref, x = InceptionResNetV2Ref(seed=21, classifier="last_linear"), _inputs(IRV2_SIZE, 22)
    with torch.no_grad():
        logits = ref(x, classes=1001)
    timm_sd = {k: v for k, v in ref.sd.items() if not k.startswith("last_linear.")}
    timm_sd.update({f"classif.{leaf}": ref.sd[f"last_linear.{leaf}"][1:].contiguous()
                    for leaf in ("weight", "bias")})
    root = tmp_path_factory.mktemp("timm_irv2")
    files = {"cadene": root / "inceptionresnetv2-520b38e4.pth",
             "timm": root / "model.safetensors"}
    torch.save(ref.sd, files["cadene"])
    save_file(timm_sd, str(files["timm"]))
    return IRv2Files(ref, timm_sd, x, logits[:, 1:], files)


def _ours(name: str, state: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    model = create_model(name, aux_logits=False).eval()
    model.load_state_dict(from_timm(state, name, source="f.pth"))
    with torch.no_grad():
        return model(x)


def test_inception_v4_matches_timms_forward(v4_ref):
    ref, x, logits = v4_ref
    assert logits.abs().max() > 0.1  # not two near-zero tensors
    # The background class is dropped: ours are TF-slim's classes 1..1000.
    assert (_ours("inception_v4", ref.sd, x) - logits[:, 1:]).abs().max() <= TOL


def test_bn_inception_matches_the_caffe_ports_forward(bn_ref):
    ref, x, logits = bn_ref
    assert logits.abs().max() > 0.1
    assert (_ours("bn_inception", ref.sd, x) - logits).abs().max() <= TOL


def test_timms_inception_v3_is_torchvisions_layout():
    # timm's TF port: torchvision's keys, no aux head, TF-slim's 1001 classes at first.
    ref, x = Inception3Ref(seed=16), _inputs(107, 17)
    with torch.no_grad():
        logits, _ = ref(x, classes=1001, with_aux=False)
    assert (_ours("inception_v3", ref.sd, x) - logits[:, 1:]).abs().max() <= TOL


def test_models_are_told_apart_by_their_keys(v4_ref, bn_ref, irv2):
    assert timm_model(v4_ref[0].sd, "a.pth") == "inception_v4"
    assert timm_model(bn_ref[0].sd, "b.pth") == "bn_inception"
    assert timm_model(irv2.ref.sd, "c.pth") == timm_model(irv2.timm_sd, "c.safetensors") \
        == "inception_resnet_v2"
    tv = create_model("inception_v3", aux_logits=False).state_dict()
    assert timm_model({k.replace("mixed10.", "Mixed_7c."): v for k, v in tv.items()},
                      "c.pth") == "inception_v3"
    with pytest.raises(WeightsError, match=r"^d\.pth: not a timm / Cadene .*first key 'x'"):
        timm_model({"x": torch.zeros(1)}, "d.pth")


def test_timm_names_come_from_the_tables():
    assert timm_op_names(STEM_3A) == {"branch3x3": "conv"}  # timm's Mixed3a: maxpool, conv
    assert timm_op_names(reduction_a(1, 2, 3, 4)) == {
        "branch3x3": "branch0", "branch3x3dbl_1": "branch1.0", "branch3x3dbl_2": "branch1.1",
        "branch3x3dbl_3": "branch1.2"}
    names = timm_op_names(INCEPTION_C)
    assert names["branch3x3_2a"] == "branch1_1a" and names["branch3x3dbl_4b"] == "branch2_3b"
    assert names["branch_pool"] == "branch3.1"  # branch3.0 is the average pool


def test_missing_unexpected_and_misshaped_keys_are_one_line(bn_ref):
    sd = dict(bn_ref[0].sd)
    del sd["inception_4c_double_3x3_1_bn.running_var"]
    with pytest.raises(WeightsError, match=r"^f\.pth: missing key "
                       r"'inception_4c_double_3x3_1_bn\.running_var' \(ours: inception_4c\."
                       r"branch_double_3x3\.conv1\.bn\.running_var\)"):
        from_timm(sd, "bn_inception", source="f.pth")
    sd = {**bn_ref[0].sd, "inception_3a_5x5.weight": torch.zeros(1)}
    with pytest.raises(WeightsError, match=r"unexpected key 'inception_3a_5x5\.weight'"):
        from_timm(sd, "bn_inception", source="f.pth")
    sd = {**bn_ref[0].sd, "conv2_3x3.weight": torch.zeros(192, 64, 5, 5)}
    with pytest.raises(WeightsError, match=r"'conv2_3x3\.weight' \(ours: conv2\.conv\.weight\): "
                       r"file has \(192, 64, 5, 5\), model expects \(192, 64, 3, 3\)"):
        from_timm(sd, "bn_inception")
    with pytest.raises(WeightsError, match="no timm key map for model 'googlenet'"):
        from_timm(sd, "googlenet")


def test_old_files_without_batch_counters_load(bn_ref):
    sd = {k: v for k, v in bn_ref[0].sd.items() if not k.endswith("num_batches_tracked")}
    assert from_timm(sd, "bn_inception")["conv1.bn.num_batches_tracked"].item() == 0


def test_convert_from_timm_writes_the_release(bn_ref, tmp_path, capsys):
    # timm's hub files are safetensors; the release's preprocessing lands in the file.
    src, dst = tmp_path / "model.safetensors", tmp_path / "bn.safetensors"
    save_file({k: v.contiguous() for k, v in bn_ref[0].sd.items()}, str(src))
    assert main(["convert", str(src), str(dst), "--from", "timm"]) == 0
    assert "BGR, pixels 0...255, mean [104.0, 117.0, 128.0]" in capsys.readouterr().out
    meta = read_meta(dst)
    assert meta.model == "bn_inception" and meta.source == "timm:model.safetensors"
    assert meta.preprocessing == release("timm", "bn_inception").preprocessing
    assert len(meta.classes) == 1000
    assert main(["info", str(dst), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["preprocessing"]["channel_order"] == "BGR"
    # A file that is no timm layout, or a model that timm does not fill: one line, exit 2.
    assert main(["convert", str(src), str(dst), "--from", "timm", "--model", "googlenet"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def _diff(a: torch.Tensor, b: torch.Tensor) -> float:
    return (a - b).abs().max().item()


@pytest.mark.parametrize("kind", ["cadene", "timm"])
def test_convert_inception_resnet_v2_matches_timms_forward(irv2, kind, tmp_path, capsys):
    out = tmp_path / "irv2.safetensors"
    assert main(["convert", str(irv2.files[kind]), str(out), "--from", "timm"]) == 0
    assert "inception_resnet_v2" in capsys.readouterr().out
    model, meta = load_model(out)
    assert meta.preprocessing == release("timm", "inception_resnet_v2").preprocessing
    assert meta.preprocessing.resize_size == math.floor(299 / 0.8975)  # timm's crop_pct
    assert len(meta.classes) == 1000 and meta.source == f"timm:{irv2.files[kind].name}"
    with torch.no_grad():
        feats = model.forward_intermediates(irv2.x, list(IRV2_FEATURES))
        logits = model(irv2.x)
    want = irv2.ref.feats
    assert want["conv2d_7b"].shape[-1] == 3 and want["block8"].min() < 0  # linear block8
    for ours, theirs in IRV2_FEATURES.items():
        assert _diff(feats[ours], want[theirs]) <= TOL, ours
    assert irv2.logits.abs().max() > 0.1 and _diff(logits, irv2.logits) <= TOL


def test_inception_resnet_v2_keys_rename_as_the_spec_says():
    # The rule in specs/inception_resnet.py's docstring, on one key of each kind.
    ours = ["Conv2d_1a_3x3.conv.weight", "Conv2d_4a_3x3.bn.running_var",
            "mixed_5b.branch3.1.conv.weight", "block35_1.conv2d.conv.bias",
            "block17_20.branch1.2.bn.bias", "block8_9.conv2d.conv.weight",
            "block8_10.branch1.1.conv.weight", "conv_7b.bn.weight", "fc.weight"]
    assert list(timm_key_map("inception_resnet_v2", ours, "classif").values()) == [
        "conv2d_1a.conv.weight", "conv2d_4a.bn.running_var", "mixed_5b.branch3.1.conv.weight",
        "repeat.0.conv2d.bias", "repeat_1.19.branch1.2.bn.bias", "repeat_2.8.conv2d.weight",
        "block8.branch1.1.conv.weight", "conv2d_7b.bn.weight", "classif.weight"]


def test_a_wrong_inception_resnet_v2_file_is_one_line(irv2, tmp_path, capsys):
    sd = {k: v for k, v in irv2.timm_sd.items() if not k.startswith("block8.")}
    with pytest.raises(WeightsError, match=r"^f\.pth: missing key 'block8\.branch0\.conv\."
                       r"weight' \(ours: block8_10\.branch0\.conv\.weight\)"):
        from_timm(sd, "inception_resnet_v2", source="f.pth")
    sd = {**irv2.timm_sd, "repeat.0.conv2d.weight": torch.zeros(320, 128, 3, 3)}
    with pytest.raises(WeightsError, match=r"'repeat\.0\.conv2d\.weight' \(ours: block35_1\."
                       r"conv2d\.conv\.weight\): file has \(320, 128, 3, 3\)"):
        from_timm(sd, "inception_resnet_v2")
    # Through the command: truncated files, and a file that is no timm layout at all.
    cut = {}
    for kind, path in irv2.files.items():
        cut[kind] = tmp_path / f"cut_{path.name}"
        cut[kind].write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    foreign = tmp_path / "resnet50.pth"
    torch.save({"conv1.weight": torch.zeros(64, 3, 7, 7)}, foreign)
    for path, says in ((cut["cadene"], "truncated"), (cut["timm"], "truncated"),
                       (foreign, "not a timm / Cadene")):
        assert main(["convert", str(path), str(tmp_path / "o.safetensors"), "--from",
                     "timm"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and str(path) in err and says in err, err
