"""Rules the code keeps that no linter checks: every ``type: ignore`` says why."""

from __future__ import annotations

import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "googlenet"
IGNORE = re.compile(r"type:\s*ignore(\[[^\]]*\])?(?P<rest>.*)$")


def test_every_type_ignore_names_its_codes_and_gives_a_reason() -> None:
    bare = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            match = IGNORE.search(line)
            if match and (not match.group(1) or not match.group("rest").strip().startswith("#")):
                bare.append(f"{path.relative_to(PACKAGE.parent)}:{number}: {line.strip()}")
    assert not bare, "type: ignore without [codes] and a '# reason':\n" + "\n".join(bare)
