"""Locust's CSV statistics (--csv PREFIX --csv-full-history) as the report, the noisy-neighbour gate and the
capacity benchmark need them (the other gates read every request's record, load/samples.py).

Locust keys its statistics by method and name; requests are named by journey, so one journey has a row per
method. Counts add up; a journey's p99 is taken as the largest p99 of its rows, an upper bound of the p99
of all its requests (no more than 1 % of each row, hence of their union, lies above it): the capacity
benchmark's steps are judged on that bound, the stricter reading.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from load.gates import JourneyStats


def _number(text: str) -> float:
    return 0.0 if text in ("", "N/A") else float(text)


def journeys(stats_csv: Path, names: tuple[str, ...]) -> list[JourneyStats]:
    with stats_csv.open() as handle:
        rows = list(csv.DictReader(handle))
    found = []
    for name in names:
        mine = [r for r in rows if r["Name"] == name]
        found.append(
            JourneyStats(
                journey=name,
                requests=sum(int(r["Request Count"]) for r in mine),
                failures=sum(int(r["Failure Count"]) for r in mine),
                p50_ms=max((_number(r["50%"]) for r in mine), default=0.0),
                p99_ms=max((_number(r["99%"]) for r in mine), default=0.0),
            )
        )
    return found


def named(stats_csv: Path, name: str) -> tuple[int, int]:
    """(requests, failures) of the rows with this name, every method."""
    with stats_csv.open() as handle:
        rows = [r for r in csv.DictReader(handle) if r["Name"] == name]
    return sum(int(r["Request Count"]) for r in rows), sum(int(r["Failure Count"]) for r in rows)


def answered(failures_csv: Path, status: int, excluding: str) -> int:
    """Failures whose error says the request was answered with this status, but for names starting with
    `excluding` (the journeys say "<method> <route> answered <status>")."""
    with failures_csv.open() as handle:
        rows = list(csv.DictReader(handle))
    return sum(
        int(r["Occurrences"])
        for r in rows
        if re.search(rf"answered {status}\b", r["Error"]) and not r["Name"].startswith(excluding)
    )


def _aggregated_row(stats_csv: Path) -> dict[str, str]:
    with stats_csv.open() as handle:
        return next(r for r in csv.DictReader(handle) if r["Name"] == "Aggregated")


def aggregated(stats_csv: Path) -> tuple[int, int]:
    """(requests, failures) of the whole run."""
    row = _aggregated_row(stats_csv)
    return int(row["Request Count"]), int(row["Failure Count"])


def rate(stats_csv: Path) -> float:
    """Requests/s over the statistics' own window (after --reset-stats, the steady state only)."""
    return _number(_aggregated_row(stats_csv)["Requests/s"])


@dataclass(frozen=True)
class Tick:
    """One second of the run, all requests together (Locust's 'Aggregated' history row)."""

    t: float
    users: int
    rps: float
    failures_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int  # cumulative
    failures: int  # cumulative


def timelines(history_csv: Path) -> dict[tuple[str, str], list[Tick]]:
    """Every history row series by (method, name); the run as a whole is ("", "Aggregated")."""
    with history_csv.open() as handle:
        rows = list(csv.DictReader(handle))
    series: dict[tuple[str, str], list[Tick]] = {}
    for r in rows:
        tick = Tick(
            t=float(r["Timestamp"]),
            users=int(r["User Count"]),
            rps=_number(r["Requests/s"]),
            failures_per_s=_number(r["Failures/s"]),
            p50_ms=_number(r["50%"]),
            p99_ms=_number(r["99%"]),
            requests=int(r["Total Request Count"]),
            failures=int(r["Total Failure Count"]),
        )
        series.setdefault((r["Type"], r["Name"]), []).append(tick)
    return series


def timeline(history_csv: Path) -> list[Tick]:
    return timelines(history_csv).get(("", "Aggregated"), [])
