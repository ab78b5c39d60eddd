"""SECURITY.md promises each refusal with the tests that keep it: every test it names must exist, and every row
must name one."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SECURITY = ROOT / "SECURITY.md"
REFERENCE = re.compile(r"`(?P<path>[\w/.]+\.py)::(?P<test>test_\w+)`")


def _tests_in(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}


def test_every_test_security_md_names_exists() -> None:
    named = [(m["path"], m["test"]) for m in REFERENCE.finditer(SECURITY.read_text())]
    assert len(named) >= 20
    missing = [
        f"{path}::{test}" for path, test in named if not (ROOT / path).is_file() or test not in _tests_in(ROOT / path)
    ]
    assert not missing, f"SECURITY.md names tests that do not exist: {missing}"


def test_every_row_of_the_threat_table_is_kept_by_a_test() -> None:
    rows = [
        line for line in SECURITY.read_text().splitlines() if line.startswith("| ") and not line.startswith("| who")
    ]
    assert len(rows) >= 10
    unkept = [row.split("|")[1].strip() for row in rows if not REFERENCE.search(row.split("|")[-2])]
    assert not unkept, f"rows without a test: {unkept}"
