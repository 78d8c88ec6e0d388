"""The suite's rule for real data (tests/conftest.py), run on a throwaway test file.

Only ``realdata`` tests may skip for want of Fashion-MNIST; where GOOGLENET_REQUIRE_DATA=1
their skip is a failure, and no other test may ask for the data set.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = '''
import pytest

@pytest.mark.realdata
def test_marked_skips():
    pytest.skip("no data here")

def test_unmarked_skips():
    pytest.skip("no GPU here")

def test_unmarked_asks_for_data(fashion_mnist_root):
    pass
'''


def _run(tmp_path: Path, require: bool) -> str:
    shutil.copy(Path(__file__).with_name("conftest.py"), tmp_path / "conftest.py")
    (tmp_path / "pytest.ini").write_text("[pytest]\nmarkers =\n    realdata: needs data\n")
    (tmp_path / "test_rule.py").write_text(TESTS)
    env = {k: v for k, v in os.environ.items() if k != "GOOGLENET_REQUIRE_DATA"}
    if require:
        env["GOOGLENET_REQUIRE_DATA"] = "1"
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
                           "-rA", "-c", "pytest.ini", "--rootdir", str(tmp_path)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    return proc.stdout


@pytest.mark.parametrize("require", [False, True])
def test_only_realdata_tests_skip_and_not_where_data_is_required(tmp_path, require):
    out = _run(tmp_path, require)
    marked = "FAILED test_rule.py::test_marked_skips" if require else "SKIPPED [1] test_rule.py"
    assert marked in out, out
    if require:
        assert "GOOGLENET_REQUIRE_DATA=1, so this realdata test must run" in out, out
    assert "no GPU here" in out and "FAILED test_rule.py::test_unmarked_skips" not in out, out
    assert "ERROR test_rule.py::test_unmarked_asks_for_data" in out, out
    assert "only tests marked realdata may use Fashion-MNIST" in out, out
