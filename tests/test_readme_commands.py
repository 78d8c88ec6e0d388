"""Every shell command in the README's ```sh blocks is run here, or matched by a rule in
:data:`NOT_RUN` that says why a test cannot run it (files the test cannot have, such as
pretrained weights or ImageNet; an hour of training). A new command that no rule covers is
run, so a README example that stops working fails this test. The README's Python blocks
are another test's (tests/test_readme_examples.py).

``googlenet`` commands run in-process through :func:`googlenet.cli.main` (what the console
script calls), each in an empty working folder, so files they write land there.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from googlenet.cli import main
from googlenet.weights.catalogue import RELEASE_NAMES

README = Path(__file__).resolve().parent.parent / "README.md"

# (pattern matched against the whole command, why a test does not run it). First match wins.
NOT_RUN: tuple[tuple[str, str], ...] = (
    (r"(?<![\w.])(" + "|".join(map(re.escape, RELEASE_NAMES)) + r")(?![\w.])",
     "fetches a weights release from its publisher (the tests have no network): "
     "tests/weights/test_hub.py fetches, verifies and converts releases from a local server"),
    (r"^make (demo|test)$", "the set-up commands themselves: CI runs `make test`, and "
     "`make demo` trains for minutes (tests/train/test_train_demo.py covers it)"),
    (r"^make docs(-serve)?$", "CI runs `make docs` before the tests, and "
     "tests/test_docs_site.py checks the site it built; docs-serve serves it until stopped"),
    (r"^googlenet convert ", "needs the release's original weight file (.pth, .h5, "
     ".caffemodel): nothing is downloaded; tests/weights converts files it builds"),
    (r"bvlc_googlenet\.safetensors|v3_notop\.safetensors",
     "needs pretrained weights converted from a release file the test cannot have"),
    (r"/data/imagenet|~/cifar-10-batches-py", "needs ImageNet or CIFAR-10 on disk"),
    (r"^torchrun ", "several processes or machines; tests/train/test_train_ddp.py runs DDP"),
    (r"^googlenet train .*(--epochs 10|--preset fmnist-(fast|30min|60min)$|--dataset cifar10)",
     "trains on the whole data set for 10 to 56 epochs: minutes to an hour"),
    (r"runs/|a/best\.safetensors", "needs the run folder a training command above writes"),
    (r"cat\.jpg|photos/|my_cat\.jpg", "needs the user's own photos (and pretrained weights)"),
    (r"^googlenet bench googlenet ", "times every inference path at 224x224 for minutes; "
     "tests/deploy/test_bench_cli.py runs bench on a small model"),
)

# Commands that run, but take long enough to be left to `make test-all`.
SLOW = (r"^googlenet export ",)


def shell_commands(markdown: str) -> list[str]:
    """The commands of the ```sh blocks: continuation lines joined, comments dropped."""
    commands = []
    for block in re.findall(r"^```sh\n(.*?)^```", markdown, re.M | re.S):
        for line in re.sub(r"\\\n\s*", " ", block).splitlines():
            command = line.split(" #")[0].strip()
            if command and not command.startswith("#"):
                commands.append(command)
    return commands


COMMANDS = shell_commands(README.read_text(encoding="utf-8"))


def reason_not_run(command: str) -> str | None:
    return next((why for pattern, why in NOT_RUN if re.search(pattern, command)), None)


def test_the_readme_has_commands_and_every_rule_is_used():
    assert len(COMMANDS) > 20
    unused = [p for p, _ in NOT_RUN if not any(re.search(p, c) for c in COMMANDS)]
    assert not unused, f"rules that match no README command any more: {unused}"


@pytest.mark.parametrize("command", [
    pytest.param(c, marks=[pytest.mark.slow] if any(re.search(p, c) for p in SLOW) else [])
    for c in COMMANDS if reason_not_run(c) is None])
def test_readme_command_runs(command, tmp_path, monkeypatch, capsys):
    words = shlex.split(command)
    if words[:3] == ["python", "-m", "googlenet"]:
        words = words[2:]
    assert words[0] == "googlenet", f"only googlenet commands run here: {command!r}"
    monkeypatch.chdir(tmp_path)
    assert main(words[1:]) == 0, capsys.readouterr().err
    assert capsys.readouterr().out.strip() or any(tmp_path.iterdir()), \
        f"{command!r} printed nothing and wrote nothing"


def test_the_cost_output_shown_in_the_readme_is_what_the_command_prints(capsys):
    text = README.read_text(encoding="utf-8")
    command = next(c for c in COMMANDS if c.startswith("googlenet cost "))
    shown = re.search(r"`googlenet cost` prints, for one branch:\n\n```\n(.*?)```", text, re.S)
    assert shown is not None, "the README no longer shows `googlenet cost`'s output"
    assert main(shlex.split(command)[1:]) == 0
    assert capsys.readouterr().out == shown.group(1)
