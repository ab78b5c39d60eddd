"""The run's settings: one model, bad values named with their field."""

import pydantic
import pytest

from load.settings import ENV, LoadSettings, from_environment


def test_defaults_replay_a_day_with_the_fault_across_the_flash_sale_peak() -> None:
    settings = LoadSettings()
    start, end = settings.fault_window
    assert start / settings.day_s * 24 < 21 < end / settings.day_s * 24


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"fault_from": 0.5, "fault_until": 0.4}, "fault_until must be after fault_from"),
        ({"slos": {"browse": {"p99_ms": 1, "max_error_rate": 0}}}, "slos must name exactly the journeys"),
        ({"peak_rps": 0}, "peak_rps"),
        ({"day_s": 5}, "day_s"),
        ({"pace": 1}, "pace"),
        ({"db_failover_at": 0.79}, r"db_failover_at \(\+ db_failover_window_s\) overlaps fault_from..fault_until"),
        ({"crash_at": 0.42}, r"db_failover_at \(\+ db_failover_window_s\) overlaps crash_at \(\+ crash_window_s\)"),
        ({"crash_at": 0.85}, r"fault_from..fault_until overlaps crash_at"),
        ({"crash_at": 0.5, "crash_window_s": 200}, r"crash_at \(\+ crash_window_s\) overlaps fault_from"),
        ({"db_failover_at": 1.0}, "db_failover_at"),
        ({"db_reconnect_bound_s": 30}, "db_reconnect_bound_s must be shorter"),
    ],
)
def test_bad_settings_are_refused_naming_the_field(fields: dict, message: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=message):
        LoadSettings.model_validate(fields)


def test_the_database_failover_comes_before_the_pay_fault_and_can_be_left_out() -> None:
    settings = LoadSettings()
    assert settings.db_failover_window is not None
    assert settings.db_failover_window[1] <= settings.fault_window[0]
    assert LoadSettings(db_failover_at=None).db_failover_window is None


def test_the_crash_restart_falls_between_the_other_drills_and_can_be_left_out() -> None:
    settings = LoadSettings()
    crash, failover = settings.crash_window, settings.db_failover_window
    assert crash is not None
    assert failover is not None
    assert failover[1] <= crash[0] < crash[1] <= settings.fault_window[0]
    assert LoadSettings(crash_at=None).crash_window is None


def test_the_locust_processes_read_the_runs_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, LoadSettings(peak_rps=77).model_dump_json())
    assert from_environment().peak_rps == 77
    monkeypatch.delenv(ENV)
    assert from_environment() == LoadSettings()
