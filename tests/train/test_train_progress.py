import io

from googlenet.train.progress import ProgressBar, format_duration


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
