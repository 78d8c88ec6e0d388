"""``googlenet predict`` over folders: recursion, skipped files, CSV, int8 calibration and
the progress bar, on a tiny random model (the parity with Caffe is in tests/transfer)."""

from __future__ import annotations

import csv
import io
import json
from contextlib import redirect_stderr
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from googlenet.cli import main
from googlenet.deploy import unavailable_reason
from googlenet.models import build_model, get_model_info
from googlenet.predict import Predictor, read_image
from googlenet.recipe import ModelRecipe
from googlenet.weights import WeightsMeta, save_weights

NO_INT8 = unavailable_reason("int8")


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random ``inception_a_net`` (28x28 grayscale, 10 classes) with its metadata."""
    torch.manual_seed(0)
    recipe = ModelRecipe("inception_a_net")
    meta = WeightsMeta(recipe, tuple("0123456789"),
                       get_model_info("inception_a_net").preprocessing)
    path = tmp_path_factory.mktemp("weights") / "tiny.safetensors"
    save_weights(path, build_model(recipe).state_dict(), meta)
    return path


def _image(path: Path, seed: int, size: tuple[int, int] = (40, 36)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 256, (*size[::-1], 3), dtype=np.uint8)).save(path)
    return path


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    """photos/{b.png, a/c.jpg, z/deep/d.bmp} and files a folder search must leave out."""
    root = tmp_path / "photos"
    for i, name in enumerate(["b.png", "a/c.jpg", "z/deep/d.bmp"]):
        _image(root / name, seed=i)
    _image(root / "a" / ".hidden.png", seed=9)
    (root / "notes.txt").write_text("not an image")
    return root


def _bad_files(folder: Path) -> list[Path]:
    """A corrupt JPEG, a truncated PNG and text named .png."""
    folder.mkdir(parents=True, exist_ok=True)
    corrupt = folder / "corrupt.jpg"
    corrupt.write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    whole = _image(folder / "whole.png", seed=5, size=(64, 64)).read_bytes()
    truncated = folder / "truncated.png"
    truncated.write_bytes(whole[: len(whole) // 2])
    (folder / "whole.png").unlink()
    text = folder / "text.png"
    text.write_text("hello")
    return [corrupt, truncated, text]


def _predict_json(capsys: pytest.CaptureFixture[str], *argv: str,
                  ) -> tuple[list[dict[str, object]], str]:
    """The JSON rows ``googlenet predict ARGV --json`` prints, and its stderr."""
    assert main(["predict", *argv, "--json"]) == 0
    captured = capsys.readouterr()
    return list(json.loads(captured.out)), captured.err


def test_folders_are_searched_recursively_in_sorted_order(
    tmp_path: Path, photos: Path, weights: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    single = _image(tmp_path / "single.jpeg", seed=7)
    rows, _ = _predict_json(capsys, str(single), str(photos), "--weights", str(weights),
                            "--topk", "3")
    assert [r["image"] for r in rows] == [str(single), str(photos / "a" / "c.jpg"),
                                          str(photos / "b.png"),
                                          str(photos / "z" / "deep" / "d.bmp")]
    assert all(len(r["top"]) == 3 for r in rows)  # type: ignore[arg-type]


def test_unreadable_files_are_skipped_reported_and_counted(
    photos: Path, weights: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    bad = _bad_files(photos / "bad")
    assert main(["predict", str(photos), "--weights", str(weights), "--topk", "2"]) == 0
    captured = capsys.readouterr()
    assert captured.out.count("photos/") == 3 and "bad/" not in captured.out
    skips = [line for line in captured.err.splitlines() if line.startswith("skipped /")]
    assert sorted(s.split(": ")[0] for s in skips) == sorted(f"skipped {p}" for p in bad)
    assert all("cannot read image" in s for s in skips)
    assert "skipped 3 of 6 files (unreadable); predicted 3" in captured.err


def test_nothing_readable_is_a_one_line_error(
    tmp_path: Path, weights: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    bad = _bad_files(tmp_path / "bad")
    assert main(["predict", str(bad[0]), "--weights", str(weights)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and str(bad[0]) in err and "cannot read image" in err
    assert main(["predict", str(tmp_path / "bad"), "--weights", str(weights)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "no image could be read (3 files skipped" in err


@pytest.mark.parametrize("case", ["missing", "empty_folder", "csv_folder_missing",
                                  "csv_is_a_directory"])
def test_bad_arguments_are_one_line_errors(
    case: str, tmp_path: Path, photos: Path, weights: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "readme.txt").write_text("no images here")
    argv, needle = {
        "missing": ([str(tmp_path / "nope.jpg")], "nope.jpg: no such file or folder"),
        "empty_folder": ([str(empty)], "empty: no image files in this folder"),
        "csv_folder_missing": ([str(photos), "--csv", str(tmp_path / "no" / "p.csv")],
                               "does not exist"),
        "csv_is_a_directory": ([str(photos), "--csv", str(tmp_path)], "is a directory"),
    }[case]
    assert main(["predict", *argv, "--weights", str(weights)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and needle in err


def test_csv_has_a_row_per_image_and_replaces_the_file_atomically(
    tmp_path: Path, photos: Path, weights: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    _bad_files(photos / "bad")
    out = tmp_path / "preds.csv"
    out.write_text("old contents")
    assert main(["predict", str(photos), "--weights", str(weights), "--topk", "3",
                 "--csv", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and f"wrote {out} (3 rows)" in captured.err
    with open(out, newline="", encoding="utf-8") as handle:
        header, *rows = list(csv.reader(handle))
    assert header == ["image", "label_1", "prob_1", "label_2", "prob_2", "label_3", "prob_3"]
    assert [r[0] for r in rows] == [str(photos / "a" / "c.jpg"), str(photos / "b.png"),
                                    str(photos / "z" / "deep" / "d.bmp")]
    for row in rows:
        probs = [float(p) for p in row[2::2]]
        assert probs == sorted(probs, reverse=True) and set(row[1::2]) <= set("0123456789")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photos", "preds.csv"]  # no temp


def test_python_api_returns_skipped_files(photos: Path, weights: Path) -> None:
    bad = _bad_files(photos / "bad")
    result = Predictor.from_file(weights).predict([photos], topk=2)
    assert len(result) == 3 and len(result.top) == 3 and result.images[0].name == "c.jpg"
    assert sorted(p for p, _ in result.skipped) == sorted(bad)
    assert all(reason.startswith("cannot read image") for _, reason in result.skipped)
    assert all(len(top) == 2 and top[0][1] >= top[1][1] for top in result.top)


@pytest.fixture
def calibration_spy(monkeypatch: pytest.MonkeyPatch) -> list[torch.Tensor]:
    """Records the batches int8 calibrates on; quantizes without the Inductor compile
    (a minute on 2 cores; the reference int8 graph computes the same, see
    tests/deploy/test_precision.py), so the flow is checked in seconds."""
    from googlenet.deploy import optimize, quantize

    seen: list[torch.Tensor] = []

    def quantize_uncompiled(model, calibration, example, **_):  # type: ignore[no-untyped-def]
        batches = list(calibration)
        seen.extend(batches)
        return quantize.quantize_int8(model, batches, example, compile=False)

    monkeypatch.setattr(optimize, "quantize_int8", quantize_uncompiled)
    return seen


def _model_inputs(paths: list[Path], weights: Path) -> torch.Tensor:
    """``paths`` exactly as the model gets them: the weights' own preprocessing."""
    pre = Predictor.from_file(weights).preprocessing
    return torch.cat([pre.normalize(read_image(p, pre, channels=1)[None]) for p in paths])


@pytest.mark.skipif(NO_INT8 is not None, reason=f"int8 unavailable: {NO_INT8}")
def test_int8_calibrates_on_the_given_images(
    tmp_path: Path, photos: Path, weights: Path, calibration_spy: list[torch.Tensor],
    capsys: pytest.CaptureFixture[str],
) -> None:
    calib = [_image(tmp_path / "calib" / f"{i}.png", seed=20 + i) for i in range(5)]
    rows, err = _predict_json(capsys, str(photos), "--weights", str(weights), "--path",
                              "int8", "--calibration", str(tmp_path / "calib"))
    assert len(rows) == 3 and "inference path: int8" in err and "calibrating on" not in err
    channels_last = torch.cat(calibration_spy)
    assert torch.equal(channels_last.contiguous(), _model_inputs(calib, weights))


@pytest.mark.skipif(NO_INT8 is not None, reason=f"int8 unavailable: {NO_INT8}")
def test_int8_without_calibration_uses_the_inputs_and_says_so(
    photos: Path, weights: Path, calibration_spy: list[torch.Tensor],
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["predict", str(photos), "--weights", str(weights), "--path", "int8"]) == 0
    err = capsys.readouterr().err
    assert "no --calibration given; calibrating on the input images" in err
    inputs = [photos / "a" / "c.jpg", photos / "b.png", photos / "z" / "deep" / "d.bmp"]
    assert torch.equal(torch.cat(calibration_spy).contiguous(), _model_inputs(inputs, weights))


@pytest.mark.skipif(unavailable_reason("openvino_int8") is not None,
                    reason="OpenVINO not installed")
def test_openvino_int8_end_to_end(photos: Path, weights: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    rows, err = _predict_json(capsys, str(photos), "--weights", str(weights), "--path",
                              "openvino_int8")
    assert len(rows) == 3 and "inference path: openvino_int8" in err
    eager, _ = _predict_json(capsys, str(photos), "--weights", str(weights), "--path", "eager")
    assert [r["top"][0]["label"] for r in rows] == [r["top"][0]["label"] for r in eager]  # type: ignore[index]


@pytest.mark.slow
@pytest.mark.skipif(NO_INT8 is not None, reason=f"int8 unavailable: {NO_INT8}")
def test_int8_compiled_end_to_end(photos: Path, weights: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    rows, err = _predict_json(capsys, str(photos), "--weights", str(weights), "--path", "int8")
    assert len(rows) == 3 and "inference path: int8" in err


def test_progress_bar_with_eta_on_a_terminal(photos: Path, weights: Path,
                                             fake_tty: io.StringIO) -> None:
    with redirect_stderr(fake_tty):
        assert main(["predict", str(photos), "--weights", str(weights), "--csv",
                     str(photos.parent / "p.csv")]) == 0
    drawn = fake_tty.getvalue()
    assert "\rpredict [" in drawn and "1/1" in drawn and "img/s" in drawn and "ETA" in drawn


def test_no_progress_bar_when_stderr_is_not_a_terminal(
    photos: Path, weights: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["predict", str(photos), "--weights", str(weights)]) == 0
    err = capsys.readouterr().err
    assert "\r" not in err and "ETA" not in err


@pytest.mark.skipif(NO_INT8 is not None, reason=f"int8 unavailable: {NO_INT8}")
def test_eval_int8_calibrates_on_the_evaluated_images(
    tmp_path: Path, weights: Path, calibration_spy: list[torch.Tensor],
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["eval", str(weights), "--dataset", "synthetic", "--limit", "8", "--path",
                 "int8", "--out", str(tmp_path), "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["inference_path"] == "int8"
    assert "int8: calibrating on 256 of the evaluated images" in err
    from googlenet.data import build_dataset
    from googlenet.evaluate import crop_views

    # The first image, prepared as eval's 1-crop view of it (resize 32, center 28).
    test = build_dataset("synthetic", "test", image_size=28, channels=1)
    pre = Predictor.from_file(weights).preprocessing
    view = crop_views(test[0][0][None], pre.input_size, 1, pre.resize_size)[0]
    assert torch.equal(torch.cat(calibration_spy)[:1].contiguous(), pre.normalize(view))


def _installed(monkeypatch: pytest.MonkeyPatch, **runs: bool) -> None:
    """Make each named path run here (True) or not (False), whatever is installed."""
    import dataclasses

    from googlenet.deploy import optimize

    monkeypatch.setattr(optimize, "cpu_has_fast_bf16", lambda: False)
    for path, ok in runs.items():
        info = optimize.PATHS[path]
        monkeypatch.setitem(optimize.PATHS, path, dataclasses.replace(
            info, requires=lambda d, ok=ok: None if ok else "not here"))


def test_auto_chooses_by_batch_size_and_what_the_build_costs(monkeypatch):
    # BENCHMARKS.md, "Against what users would otherwise run": onnxruntime is ahead of
    # winograd at batch 1, winograd ahead at batch 32, onnxruntime ahead of fused at both.
    from googlenet.deploy.optimize import auto_path

    _installed(monkeypatch, onnxruntime=True, winograd=True)
    assert auto_path("cpu", 1, allow_export=True) == "onnxruntime"
    assert auto_path("cpu", 32, allow_export=True) == "winograd"
    assert auto_path("cpu", None, allow_export=True) == "winograd"  # unknown: large
    assert auto_path("cpu", 1) == "winograd"  # no export allowed: no ONNX path
    _installed(monkeypatch, onnxruntime=True, winograd=False)
    assert auto_path("cpu", 32, allow_export=True) == "onnxruntime"
    assert auto_path("cpu", 32) == "fused"
    _installed(monkeypatch, onnxruntime=False, winograd=False)
    assert auto_path("cpu", 1, allow_export=True) == "fused"
    assert auto_path("cuda", 1, allow_export=True) == "fp16"


@pytest.mark.skipif(unavailable_reason("onnxruntime") is not None,
                    reason="onnxruntime is not installed")
def test_predict_auto_exports_only_when_more_than_one_batch_is_to_run(monkeypatch, weights,
                                                                      photos):
    _installed(monkeypatch, winograd=False)
    one = Predictor.from_file(weights, inference_path="auto")
    one.predict([photos / "b.png"])
    assert one.inference_path == "fused"  # one image: an export would cost more than it saves
    stream = Predictor.from_file(weights, inference_path="auto")
    result = stream.predict([photos], batch_size=1)
    assert stream.inference_path == "onnxruntime" and len(result) == 3
    eager = Predictor.from_file(weights).predict([photos], batch_size=1)
    for got, want in zip(result.top, eager.top, strict=True):
        assert got[0][0] == want[0][0] and abs(got[0][1] - want[0][1]) < 1e-4
