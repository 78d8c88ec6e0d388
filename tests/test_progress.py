import io

from googlenet.progress import ProgressBar, format_duration


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_draws_on_a_tty_and_is_quiet_otherwise():
    tty = FakeTTY()
    bar = ProgressBar(4, "epoch 1/2", stream=tty, min_interval=0.0)
    for _ in range(4):
        bar.update(32, loss=0.5, acc=0.75)
    bar.close()
    text = tty.getvalue()
    assert "epoch 1/2" in text and "4/4" in text and "loss 0.5000" in text
    assert "acc 0.7500" in text and "img/s" in text and "ETA 0:00" in text
    pipe = io.StringIO()
    quiet = ProgressBar(4, "x", stream=pipe, min_interval=0.0)
    quiet.update(32, loss=1.0)
    quiet.close()
    assert pipe.getvalue() == ""


def test_format_duration():
    assert format_duration(75) == "1:15"
    assert format_duration(3725) == "1:02:05"


def test_stage_progress_names_steps_and_a_failed_one(fake_tty):
    from googlenet.progress import StageProgress

    with StageProgress(3, "export onnx", stream=fake_tty) as bar:
        bar.stage("fusing")
        bar.stage("tracing")
    text = fake_tty.getvalue()
    assert "0/3 fusing..." in text and "1/3 tracing..." in text
    assert text.endswith("(fusing 0:00, tracing 0:00)\n") and "done in 0:00" in text
    failed = FakeTTY()
    try:
        with StageProgress(3, "convert", stream=failed) as bar:
            bar.stage("reading")
            raise ValueError("bad file")
    except ValueError:
        pass
    assert "failed in reading after 0:00" in failed.getvalue()
    never = FakeTTY()  # failed before its first step: nothing to say
    try:
        with StageProgress(3, "convert", stream=never):
            raise ValueError("no such file")
    except ValueError:
        pass
    assert never.getvalue() == ""


def test_note_shows_a_long_step_at_once_and_a_shorter_line_blanks_the_longer(fake_tty):
    bar = ProgressBar(2, "bench", stream=fake_tty, min_interval=60.0)
    bar.note("building compiled_bf16")
    bar.update(status="x")  # within min_interval: not drawn
    bar.update(status="ok")  # the last step is always drawn
    first, second = fake_tty.getvalue().split("\r")[1:]
    assert "building compiled_bf16" in first and "ETA" in first
    assert len(second) >= len(first) and second.rstrip().endswith("ETA 0:00")


def test_off_a_terminal_log_every_prints_plain_lines(monkeypatch):
    """``make demo > log``: no bar can be drawn, so a line every ``log_every`` seconds
    (here: every step, the clock moved 11 s per step), none for the last step (the
    caller's epoch line), and none at all on a terminal or when disabled."""
    clock = iter(range(0, 1000, 11))
    monkeypatch.setattr("googlenet.progress.time.perf_counter", lambda: float(next(clock)))
    out, pipe = io.StringIO(), io.StringIO()
    bar = ProgressBar(4, "epoch 1/3", stream=pipe, log_every=10.0, log_stream=out)
    for _ in range(4):
        bar.update(32, loss=0.5)
    bar.close()
    lines = out.getvalue().splitlines()
    assert len(lines) == 3 and lines[0].startswith("epoch 1/3 [") and "1/4" in lines[0]
    assert "3/4" in lines[2] and "ETA" in lines[2] and pipe.getvalue() == ""
    for kw in ({"stream": FakeTTY()}, {"stream": pipe, "enabled": False}):
        silent = io.StringIO()
        other = ProgressBar(4, "x", log_every=10.0, log_stream=silent, **kw)
        for _ in range(4):
            other.update(32)
        assert silent.getvalue() == ""
