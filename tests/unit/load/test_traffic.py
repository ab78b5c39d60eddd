"""The peak-day model: 8 million page views, the 9pm and 8am peaks, journey mixes, and the compressed replay."""

import math

import pytest

from load import traffic


def test_the_day_adds_up_to_eight_million_page_views() -> None:
    assert math.isclose(sum(traffic.HOURLY_SHARE), 1.0)
    assert math.isclose(sum(traffic.hourly_rate(h) * 3600 for h in range(24)), traffic.PAGE_VIEWS_PER_DAY)


def test_the_flash_sale_is_the_peak_and_check_in_the_morning_peak() -> None:
    assert traffic.peak_hour() == 21
    morning = max(range(12), key=traffic.hourly_rate)
    assert morning == 8
    assert traffic.hourly_rate(21) == pytest.approx(8_000_000 * 0.110 / 3600)


@pytest.mark.parametrize("hour", range(24))
def test_every_mix_sums_to_one(hour: int) -> None:
    mix = traffic.journey_mix(hour)
    assert set(mix) == set(traffic.JOURNEYS)
    assert math.isclose(sum(mix.values()), 1.0)


def test_journeys_follow_the_hour() -> None:
    assert max(traffic.journey_mix(8).items(), key=lambda kv: kv[1])[0] in ("checkin", "browse")
    assert traffic.journey_mix(8)["checkin"] > traffic.journey_mix(14)["checkin"]
    assert max(traffic.journey_mix(21).items(), key=lambda kv: kv[1])[0] == "flash_sale"
    assert traffic.journey_mix(3)["flash_sale"] == 0


def test_the_replay_scales_the_peak_to_the_target_and_wraps_the_day() -> None:
    replay = traffic.Replay(day_s=240, peak_rps=50)
    at_peak = 240 * 21.5 / 24
    assert replay.rate_at(at_peak) == pytest.approx(50)
    assert replay.rate_at(at_peak + 240) == pytest.approx(50)
    assert max(replay.rate_at(t / 10) for t in range(2400)) == pytest.approx(50)
    assert replay.rate_at(240 * 3.5 / 24) < 5
    assert "scale 0.20455" in replay.describe()


def test_a_replay_can_begin_at_any_hour() -> None:
    replay = traffic.Replay(day_s=240, peak_rps=10, start_hour=21)
    assert replay.hour_at(0) == 21
    assert replay.hour_at(60) == 3
    assert replay.rate_at(5) == pytest.approx(10, rel=0.05)
