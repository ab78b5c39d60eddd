"""The rules pass promtool's checks and its unit tests (rules_test.yml), and those tests catch a broken rule."""

import shutil
import subprocess
from pathlib import Path

import pytest

from ansible_collections.miniapp.mesh.plugins.module_utils import journey_slos
from load.settings import LoadSettings
from miniapp_services.kit.metrics import LATENCY_BUCKETS, TENANT_BUCKETS
from tools import slo_rules

ROOT = Path(__file__).parents[3]
RULES = ROOT / "roles/observability/files/rules/miniapp.rules.yml"
JOURNEYS = ROOT / "roles/observability/files/rules/journeys.rules.yml"
TESTS = Path(__file__).parent / "rules_test.yml"


def promtool(*args: object) -> subprocess.CompletedProcess[str]:
    if shutil.which("promtool") is None:
        pytest.fail("promtool not installed: run `make bootstrap` (Debian package prometheus)")
    return subprocess.run(["promtool", *map(str, args)], capture_output=True, text=True)


def test_rules_are_valid() -> None:
    done = promtool("check", "rules", RULES, JOURNEYS)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_journey_rules_are_generated_from_the_one_slo_definition() -> None:
    assert JOURNEYS.read_text() == slo_rules.rendered(), "run `make dashboards` (tools/slo_rules.py)"


def test_every_alert_fires_when_it_should_and_only_then() -> None:
    done = promtool("test", "rules", TESTS)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = RULES.read_text().splitlines() + JOURNEYS.read_text().splitlines()
    alerts = {line.split(":", 1)[1].strip() for line in lines if "- alert:" in line}
    tested = {line.split(":", 1)[1].strip() for line in TESTS.read_text().splitlines() if "alertname:" in line}
    assert alerts <= tested, f"alerts without a unit test: {alerts - tested}"


@pytest.mark.parametrize(
    ("path", "threshold", "loosened", "alert"),
    [
        (RULES, "ratio_of_limit > 0.9", "ratio_of_limit > 0.99", "PodMemoryNearBudget"),
        (JOURNEYS, '{journey="browse"} > 0.3', '{journey="browse"} > 0.6', "JourneyBrowseLatencyOverObjective"),
    ],
)
def test_the_unit_tests_catch_a_loosened_threshold(
    tmp_path: Path, path: Path, threshold: str, loosened: str, alert: str
) -> None:
    rules_dir = tmp_path / "roles/observability/files/rules"
    rules_dir.mkdir(parents=True)
    for source in (RULES, JOURNEYS):
        text = source.read_text()
        (rules_dir / source.name).write_text(text.replace(threshold, loosened) if source == path else text)
    assert (rules_dir / path.name).read_text() != path.read_text(), "the threshold to loosen was not found"
    tests_dir = tmp_path / "tests/unit/observability"
    tests_dir.mkdir(parents=True)
    (tests_dir / TESTS.name).write_text(TESTS.read_text())
    done = promtool("test", "rules", tests_dir / TESTS.name)
    assert done.returncode == 1
    assert alert in done.stdout + done.stderr


def test_the_services_and_tenants_latency_histograms_have_a_bucket_at_every_objective() -> None:
    assert set(journey_slos.OBJECTIVE_BUCKETS_S) <= set(LATENCY_BUCKETS)
    assert set(journey_slos.OBJECTIVE_BUCKETS_S) <= set(TENANT_BUCKETS)


def test_the_handover_gates_judge_the_same_objectives() -> None:
    slos = LoadSettings().slos
    assert {j: (s.p99_ms, s.max_error_rate) for j, s in slos.items()} == {
        s.journey: (s.p99_ms, s.max_error_rate) for s in journey_slos.SLOS
    }
