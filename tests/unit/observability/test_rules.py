"""The rules pass promtool's checks and its unit tests (rules_test.yml), and those tests catch a broken rule."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[3]
RULES = ROOT / "roles/observability/files/rules/miniapp.rules.yml"
TESTS = Path(__file__).parent / "rules_test.yml"


def promtool(*args: object) -> subprocess.CompletedProcess[str]:
    if shutil.which("promtool") is None:
        pytest.fail("promtool not installed: run `make bootstrap` (Debian package prometheus)")
    return subprocess.run(["promtool", *map(str, args)], capture_output=True, text=True)


def test_rules_are_valid() -> None:
    done = promtool("check", "rules", RULES)
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_alert_fires_when_it_should_and_only_then() -> None:
    done = promtool("test", "rules", TESTS)
    assert done.returncode == 0, done.stdout + done.stderr
    alerts = {line.split(":", 1)[1].strip() for line in RULES.read_text().splitlines() if "- alert:" in line}
    tested = {line.split(":", 1)[1].strip() for line in TESTS.read_text().splitlines() if "alertname:" in line}
    assert alerts <= tested, f"alerts without a unit test: {alerts - tested}"


def test_the_unit_tests_catch_a_loosened_threshold(tmp_path: Path) -> None:
    rules_dir = tmp_path / "roles/observability/files/rules"
    rules_dir.mkdir(parents=True)
    (rules_dir / RULES.name).write_text(RULES.read_text().replace("ratio_of_limit > 0.9", "ratio_of_limit > 0.99"))
    tests_dir = tmp_path / "tests/unit/observability"
    tests_dir.mkdir(parents=True)
    (tests_dir / TESTS.name).write_text(TESTS.read_text())
    done = promtool("test", "rules", tests_dir / TESTS.name)
    assert done.returncode == 1
    assert "PodMemoryNearBudget" in done.stdout + done.stderr
