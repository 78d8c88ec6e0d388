"""Training people can watch: report.html (curves with the run's name on whole epochs,
confusion matrix, per-class table, sample predictions, confident mistakes, the diagram),
rendered in a real browser; and --tensorboard, imported only when asked for."""

from __future__ import annotations

import subprocess
import sys

import pytest
from html_pages import parse

from googlenet.errors import ConfigError
from googlenet.train import fit

SECTIONS = ("curves", "confusion", "per-class", "samples", "wrong", "architecture", "epochs",
            "config")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A finished small run with its report (inception_a_net on synthetic images)."""
    from googlenet.recipe import ModelRecipe
    from googlenet.train import TrainConfig

    out = tmp_path_factory.mktemp("watch")
    cfg = TrainConfig(recipe=ModelRecipe("inception_a_net"), dataset="synthetic", epochs=2,
                      batch_size=32, train_limit=128, eval_limit=48, eval_batch_size=48,
                      lr=0.01, schedule="cosine", output=str(out), name="watched",
                      progress=False, seed=3)
    return fit(cfg).run_dir


def test_report_html_beside_report_md(run):
    assert (run / "report.md").is_file()
    page = parse((run / "report.html").read_text())
    assert page.ids == list(SECTIONS)
    assert page.figures["samples"] == 24 and 0 < page.figures.get("wrong", 0) <= 12
    assert page.groups["block"] == {"incep1", "incep2"}
    assert page.refs and all(r.startswith("data:image/png;base64,") for r in page.refs)


def test_curves_carry_the_run_name_on_whole_epochs(run, monkeypatch, tmp_path):
    import json

    from googlenet.report import plots

    figures = []
    monkeypatch.setattr(plots, "_save", lambda fig, path: figures.append(fig) or path)
    history = json.loads((run / "metrics.json").read_text())
    plots.plot_curves(history * 3, tmp_path, run_name="watched")  # 6 rows, epochs 1..2
    for fig in figures:
        ax = fig.axes[0]
        assert ax.get_title().startswith("watched: ")
        lo, hi = ax.get_xlim()
        ticks = [t for t in ax.get_xticks() if lo <= t <= hi]
        assert ticks and all(float(t).is_integer() for t in ticks)


@pytest.mark.browser
def test_report_renders_in_a_browser(run, browser, tmp_path):
    page = run / "report.html"
    browser.assert_not_blank(browser.screenshot(page, tmp_path / "report.png"))
    assert parse(browser.dom(page)).ids == list(SECTIONS)


def test_importing_the_trainer_does_not_import_tensorboard():
    code = ("import sys, googlenet.train, googlenet.cli; "
            "print(any(m == 'tensorboard' or m.startswith(('tensorboard.', "
            "'torch.utils.tensorboard')) for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_tensorboard_logs_scalars_images_and_the_graph(tiny_config):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    result = fit(tiny_config(tensorboard=True))
    events = EventAccumulator(str(result.run_dir / "tensorboard"))
    events.Reload()
    tags = events.Tags()
    assert {"loss/train", "loss/eval", "acc/train", "acc/eval", "lr"} <= set(tags["scalars"])
    assert [e.step for e in events.Scalars("acc/eval")] == [1, 2]
    assert [e.value for e in events.Scalars("acc/eval")] == pytest.approx(
        [r["val_acc"] for r in result.history])
    assert tags["images"] and tags["graph"]


def test_tensorboard_missing_is_a_one_line_error(tiny_config, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # import fails
    with pytest.raises(ConfigError, match=r"pip install 'googlenet\[tensorboard\]'"):
        fit(tiny_config(tensorboard=True))
