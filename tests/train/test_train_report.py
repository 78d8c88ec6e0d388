import json

from googlenet.cli import main

PNG = b"\x89PNG\r\n\x1a\n"


def test_cli_train_writes_curves_confusion_and_report(tmp_path, capsys):
    rc = main(["train", "--model", "inception_a_net", "--dataset", "synthetic", "--epochs", "2",
               "--batch-size", "32", "--train-limit", "128", "--eval-limit", "64",
               "--lr", "0.01", "--output", str(tmp_path), "--name", "r", "--progress", "false"])
    assert rc == 0
    run = tmp_path / "r"
    for name in ("loss.png", "accuracy.png", "lr.png", "confusion.png"):
        assert (run / name).read_bytes()[:8] == PNG, name
    history = json.loads((run / "metrics.json").read_text())
    report = (run / "report.md").read_text()
    assert f"final accuracy: **{history[-1]['val_acc']:.4f}**" in report
    assert "evaluated each epoch on: test split" in report
    assert "![confusion matrix](confusion.png)" in report and '"name": "inception_a_net"' in report
    ev = json.loads((run / "eval.json").read_text())
    assert ev["count"] == 64 and len(ev["per_class"]) == 10
    assert "run folder:" in capsys.readouterr().out


def test_cli_train_bad_resume_is_exit_2(tmp_path, capsys):
    missing = tmp_path / "typo" / "nothing"
    assert main(["train", "--resume", str(missing)]) == 2
    assert f"{missing}: no run folder to resume" in capsys.readouterr().err
    assert not (tmp_path / "typo").exists()  # the run lock must not create the folder
    (tmp_path / "empty").mkdir()
    assert main(["train", "--resume", str(tmp_path / "empty")]) == 2
    assert "config.json" in capsys.readouterr().err


def test_confusion_plot_of_1000_classes_stays_small(tmp_path):
    # ImageNet evaluation: a figure that grew with the class count took 22 GB of memory.
    from googlenet.report.plots import plot_confusion

    k = 1000
    confusion = [[1 if i == j else 0 for j in range(k)] for i in range(k)]
    png = plot_confusion(confusion, [f"n{i}" for i in range(k)], tmp_path / "cm.png")
    assert png.read_bytes()[:8] == PNG and png.stat().st_size < 5_000_000


def test_eval_every_evaluates_only_those_epochs_and_the_last(tmp_path, capsys):
    rc = main(["train", "--model", "inception_a_net", "--dataset", "synthetic", "--epochs", "3",
               "--eval-every", "2", "--batch-size", "32", "--train-limit", "64",
               "--eval-limit", "32", "--lr", "0.01", "--output", str(tmp_path), "--name", "r",
               "--progress", "false"])
    assert rc == 0
    run = tmp_path / "r"
    history = json.loads((run / "metrics.json").read_text())
    assert ["val_acc" in r for r in history] == [False, True, True]
    csv_rows = (run / "metrics.csv").read_text().splitlines()
    header = csv_rows[0].split(",")
    assert csv_rows[1].split(",")[header.index("val_acc")] == ""  # epoch 1: not evaluated
    report = (run / "report.md").read_text()
    assert "evaluated every 2 epochs and after the last on: test split" in report
    assert "| 1 |" in report and " - |" in report.split("## Epochs")[1]
    assert f"final accuracy: **{history[-1]['val_acc']:.4f}**" in report
    assert (run / "best.safetensors").is_file() and (run / "accuracy.png").is_file()
    out = capsys.readouterr().out.splitlines()
    epochs = [line for line in out if line.startswith("epoch ")]
    assert "val" not in epochs[0] and "val loss" in epochs[1] and "val loss" in epochs[2]
