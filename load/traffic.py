"""The peak-day traffic model of the design: 8 million page views a day on a diurnal curve with the 8am
check-in peak and the 9pm flash-sale peak, and which journeys users take at each hour. Pure functions; the
Locust shape (issue #7) replays a day compressed into minutes, scaled to a target peak rate."""

from __future__ import annotations

from dataclasses import dataclass

PAGE_VIEWS_PER_DAY = 8_000_000
# Share of the day's page views per hour (0h..23h): quiet nights, the 8am check-in peak, lunch, the
# evening rise and the 9pm flash sale. Sums to 1.
HOURLY_SHARE = (
    0.012, 0.007, 0.004, 0.003, 0.003, 0.006, 0.020, 0.050,
    0.085, 0.060, 0.055, 0.055, 0.055, 0.055, 0.038, 0.036,
    0.036, 0.040, 0.048, 0.066, 0.070, 0.110, 0.065, 0.021,
)  # fmt: skip
JOURNEYS = ("browse", "checkin", "order_pay", "flash_sale")


def hourly_rate(hour: int) -> float:
    """Page views per second during that hour of the real day."""
    return PAGE_VIEWS_PER_DAY * HOURLY_SHARE[hour % 24] / 3600


def peak_hour() -> int:
    return max(range(24), key=hourly_rate)


def journey_mix(hour: int) -> dict[str, float]:
    """Share of sessions per journey at that hour: check-in with the morning browse, the flash sale then
    order and pay at night, browsing (and some ordering) through the day. Each mix sums to 1."""
    hour %= 24
    if 6 <= hour < 10:
        return {"browse": 0.45, "checkin": 0.45, "order_pay": 0.10, "flash_sale": 0.0}
    if 20 <= hour < 23:
        return {"browse": 0.25, "checkin": 0.0, "order_pay": 0.25, "flash_sale": 0.50}
    return {"browse": 0.70, "checkin": 0.05, "order_pay": 0.25, "flash_sale": 0.0}


@dataclass(frozen=True)
class Replay:
    """The real day compressed into `day_s` seconds, every rate multiplied by `scale` so that the day's
    peak reaches `peak_rps` (the lab's capacity, not the site's 8 million a day)."""

    day_s: float
    peak_rps: float
    start_hour: float = 0.0  # the hour of the day the replay begins at

    @property
    def scale(self) -> float:
        return self.peak_rps / hourly_rate(peak_hour())

    def hour_at(self, t: float) -> float:
        return (self.start_hour + (t % self.day_s) / self.day_s * 24) % 24

    def rate_at(self, t: float) -> float:
        """Target requests per second t seconds into the replay, linear between hourly midpoints."""
        position = self.hour_at(t) - 0.5
        low = int(position // 1)
        frac = position - low
        return self.scale * ((1 - frac) * hourly_rate(low) + frac * hourly_rate(low + 1))

    def describe(self) -> str:
        return (
            f"replaying {PAGE_VIEWS_PER_DAY:,} page views/day ({hourly_rate(peak_hour()):.0f}/s at the "
            f"{peak_hour()}h peak) in {self.day_s:.0f} s at scale {self.scale:.5f}: peak {self.peak_rps:.0f} req/s"
        )
