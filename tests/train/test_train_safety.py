"""Run folders that stay inside --output, a report that escapes class names, and the
warning for a run that learned nothing (issue 31)."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from googlenet.errors import ConfigError
from googlenet.evaluate.metrics import EvalReport
from googlenet.report.report import write_report
from googlenet.train.runner import _warn_stuck, check_run_folder, fit, stuck_at_chance

HOSTILE = '<img src=x onerror="alert(1)">|cell'


def test_a_symlinked_run_folder_is_refused_and_nothing_written_through_it(tiny_config,
                                                                           tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "tiny").symlink_to(elsewhere)
    for resume, overwrite in ((False, False), (False, True), (True, False)):
        with pytest.raises(ConfigError, match="is a symbolic link"):
            fit(tiny_config(epochs=1), resume=resume, overwrite=overwrite)
    assert list(elsewhere.iterdir()) == []


def test_a_run_folder_resolving_outside_output_is_refused(tiny_config, tmp_path):
    # --output itself may be a link (the user's choice); the run folder may not leave it.
    real = tmp_path / "real"
    (real / "tiny").mkdir(parents=True)
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "tiny").symlink_to(real / "tiny")
    with pytest.raises(ConfigError, match="symbolic link"):
        check_run_folder(tiny_config(), False, False)
    (tmp_path / "runs" / "tiny").unlink()
    (tmp_path / "linked-output").symlink_to(real)
    cfg = tiny_config(output=str(tmp_path / "linked-output"))
    assert check_run_folder(cfg, False, False) == tmp_path / "linked-output" / "tiny"


@pytest.mark.parametrize("held", ["best.safetensors", "metrics.csv", "notes.txt"])
def test_any_file_in_a_run_folder_needs_resume_or_overwrite(tiny_config, tmp_path, held):
    run = tmp_path / "runs" / "tiny"
    run.mkdir(parents=True)
    (run / held).write_bytes(b"the user's")
    with pytest.raises(ConfigError, match=f"already holds files \\({held}\\)"):
        check_run_folder(tiny_config(), False, False)
    assert check_run_folder(tiny_config(), False, True) == run  # --overwrite: asked
    assert (run / held).read_bytes() == b"the user's"  # checking deletes nothing


def test_a_folder_holding_only_a_lock_or_temporary_files_is_empty(tiny_config, tmp_path):
    run = tmp_path / "runs" / "tiny"
    run.mkdir(parents=True)
    (run / ".lock").write_text("123")
    (run / ".last.safetensors.99-x.tmp").write_bytes(b"")
    assert check_run_folder(tiny_config(), False, False) == run


def test_a_run_that_cannot_start_leaves_no_folder(tiny_config, tmp_path):
    with pytest.raises(ConfigError, match="larger than the 192 training images"):
        fit(tiny_config(batch_size=256))
    assert not (tmp_path / "runs").exists()


def test_report_md_escapes_class_names(tmp_path):
    ev = EvalReport(0.5, None, 2, [HOSTILE, "b"], {HOSTILE: 1.0, "b": 0.0},
                    [[1, 0], [1, 0]])
    text = write_report(tmp_path, {}, [], ev).read_text()
    assert "<img" not in text and "onerror=\"" not in text
    assert "| &lt;img src=x onerror=&quot;alert(1)&quot;&gt;\\|cell | 1.0000 |" in text


def test_a_loss_stuck_at_chance_is_recognised():
    chance = math.log(10)
    assert stuck_at_chance([{"train_loss": chance}, {"train_loss": chance * 1.01}], 10)
    assert not stuck_at_chance([{"train_loss": chance}, {"train_loss": chance * 0.8}], 10)
    assert not stuck_at_chance([], 10)


def test_a_run_that_learns_nothing_warns(capsys):
    # A run's end, as _train sees it: every epoch's loss at ln(3).
    run = SimpleNamespace(dist=SimpleNamespace(is_main=True), data=SimpleNamespace(
        classes=["a", "b", "c"]), history=[{"train_loss": math.log(3)}] * 3)
    _warn_stuck(run)  # type: ignore[arg-type]  # the fields it reads
    assert "WARNING: the training loss stayed at ln(3) = 1.099" in capsys.readouterr().err


def test_a_run_that_learns_does_not_warn(tiny_config, capsys):
    fit(tiny_config(epochs=2, lr=0.05))
    assert "stayed at ln(" not in capsys.readouterr().err


def test_the_confusion_matrix_title_fits_its_figure(tmp_path, monkeypatch):
    from googlenet.report import plots

    saved = []
    real_save = plots._save

    def keep(fig, path):
        fig.canvas.draw()
        title = fig.axes[0].title.get_window_extent()
        saved.append((title.x0, title.x1, fig.bbox.x0, fig.bbox.x1))
        return real_save(fig, path)

    monkeypatch.setattr(plots, "_save", keep)
    plots.plot_confusion([[5, 1], [2, 7]], ["a", "b"], tmp_path / "cm.png",
                         "fashion_mnist/test, 1 crop(s): top-1 0.9123 (inference path fused)")
    (t0, t1, f0, f1), = saved
    assert f0 <= t0 and t1 <= f1
