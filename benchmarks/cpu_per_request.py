"""CPU per request, read from every lab container's cgroup (`make bench-cpu`, needs the lab mesh), and as a
ratio to the same run's baseline (benchmarks/baseline.py: an Envoy answering itself on loopback).

The idle lab is measured (no traffic) for IDLE_S seconds before and after: each container's CPU rate,
their mean charged as idle. In between, each request kind is driven through the edge by signed users, `--requests` of them with CONCURRENCY in flight, and every
container's CPU over that phase, less its idle rate times the phase's length, is divided by the requests
served. The pods' conmon and infra containers count as "pod overhead"; the driver's own CPU is reported
beside the lab's, not in it. The baseline Envoy is driven the same way, its process's CPU per request (its idle
rate subtracted) the unit the kinds' totals are also given in. Writes its section of docs/benchmarks.md and
.cache/bench/cpu.json.

Traffic goes only to the lab's edge and the baseline Envoy, both on loopback.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import platform
import resource
import secrets
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from benchmarks import baseline
from benchmarks.write_section import DOC, HEADER, replace_section
from lab import cgroups
from lab.mesh import EDGE_URL, state
from lab.podman import podman
from load import evidence, tenants
from load.journeys import Catalogue
from miniapp_services.clients.signed import SignedSession

ROOT = Path(__file__).resolve().parents[1]


IDLE_S, CONCURRENCY, WARMUP, WARMUP_BASE = 30.0, 8, 40, 10**6
OUT = ROOT / ".cache" / "bench" / "cpu.json"
# The budgets (ms of CPU per request, the idle lab in cores); None: reported, no target.
TARGETS: dict[str, Any] = {
    "product_read": {"total": 5.0, "gateway app": 1.5, "product app": 1.0, "PostgreSQL": 0.5, "sidecar pass": 0.3},
    "checkout": {"total": 25.0},
    "idle_cores": 0.15,
}


@dataclass(frozen=True)
class Kind:
    """A request kind: how its n-th request is made, and which answers count as served."""

    name: str
    request: Callable[[int], tuple[str, str, dict[str, Any] | None]]
    ok: frozenset[int] = frozenset({200, 201, 204})


@dataclass
class Phase:
    seconds: float = 0.0
    served: int = 0
    failed: dict[int, int] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)
    driver_cpu_s: float = 0.0


def containers() -> dict[str, str]:
    """Every lab container's display name -> its cgroup; each pod's conmon as '<pod>-conmon'."""
    ids = podman("ps", "-q", "--no-trunc").split()
    found: dict[str, str] = {}
    for item in json.loads(podman("inspect", *ids)):
        path = item["State"]["CgroupPath"]
        found[item["Name"]] = path
        pod_dir = path.rsplit("/", 1)[0]
        if pod_dir != "/libpod_parent":
            found[f"{item['Pod'][:12]}-conmon"] = f"{pod_dir}/conmon"
    found["standalone conmon"] = "/libpod_parent/conmon"
    return found


@functools.cache
def _mesh_rows() -> dict[str, str]:
    """The mesh's containers -> their row, from the lab's state: replicas of one service summed; the database's
    members (the lab hosts pg1, pg2, Patroni included) in one row."""
    lab = state.load()
    return {
        c: f"{p.app} {kind}"
        for p in lab.pods
        for c, kind in ((p.app_container, "app"), (p.sidecar_container, "sidecar"))
    } | dict.fromkeys(lab.database.hosts, "PostgreSQL")


def group(name: str) -> str:
    """The row a container's CPU is reported in: replicas of one service summed."""
    if name in _mesh_rows():
        return _mesh_rows()[name]
    if name.endswith(("-conmon", "-infra")) or name == "standalone conmon":
        return "pod overhead (conmon, pause)"
    if name == "miniapp-mesh-ingress-envoy":
        return "edge sidecar"
    if name.startswith("etcd"):
        return "etcd (3 members)"
    if name.startswith("miniapp-mesh-prometheus"):
        return "Prometheus (+ cAdvisor stand-in)"
    if name in ("server1", "agent1"):
        return "K3s hosts (idle systemd)"
    return name


def snapshot(cgroup_of: dict[str, str]) -> dict[str, float]:
    taken = {}
    for name, path in cgroup_of.items():
        try:
            taken[name] = cgroups.cpu_seconds(path)
        except FileNotFoundError:
            taken[name] = 0.0
    return taken


def driver_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_SELF)
    return used.ru_utime + used.ru_stime


async def login(http: aiohttp.ClientSession) -> SignedSession:
    appid = tenants.appids()[0]
    body = {"appid": appid, "code": f"code-bench-{secrets.token_hex(6)}", "nickname": "bench"}
    async with http.post(f"{EDGE_URL}/api/login", json=body) as reply:
        found = await reply.json()
    return SignedSession(found["token"], found["signing_key"], appid)


async def send(
    http: aiohttp.ClientSession, signer: SignedSession, method: str, path: str, body: dict[str, Any] | None
) -> tuple[int, bytes]:
    data = json.dumps(body).encode() if body is not None else b""
    headers = signer.headers(method, path, data)
    if body is not None:
        headers["content-type"] = "application/json"
    async with http.request(method, EDGE_URL + path, data=data or None, headers=headers) as reply:
        return reply.status, await reply.read()


async def drive(
    kind: Kind, numbers: Sequence[int], signers: list[SignedSession], phase: Phase | None
) -> dict[int, bytes]:
    """The kind's requests of these numbers, CONCURRENCY at a time, one signed session per worker; the
    bodies served, by number."""
    bodies: dict[int, bytes] = {}
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def worker(i: int, signer: SignedSession) -> None:
            # Number n is always sent by session n % CONCURRENCY: the session that placed an order pays it.
            for n in numbers[i :: len(signers)]:
                began = time.perf_counter()
                status, body = await send(http, signer, *kind.request(n))
                if status in kind.ok:
                    bodies[n] = body
                    if phase is not None:
                        phase.latencies_ms.append((time.perf_counter() - began) * 1000)
                elif phase is not None:
                    phase.failed[status] = phase.failed.get(status, 0) + 1

        await asyncio.gather(*(worker(i, s) for i, s in enumerate(signers)))
    return bodies


async def _direct(requests: int) -> None:
    """requests to the baseline Envoy, CONCURRENCY at a time, as drive() sends the kinds."""
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def worker(count: int) -> None:
            for _ in range(count):
                async with http.get(f"{baseline.URL}/") as reply:
                    await reply.read()

        await asyncio.gather(*(worker(requests // CONCURRENCY) for _ in range(CONCURRENCY)))


def baseline_ms(requests: int) -> float:
    """ms of CPU the baseline Envoy spends per request (its idle rate subtracted), after a warm-up."""
    with tempfile.TemporaryDirectory() as tmp, baseline.direct_envoy(Path(tmp)) as proxy:
        asyncio.run(_direct(WARMUP))
        cpu0, t0 = baseline.cpu_seconds(proxy.pid), time.monotonic()
        time.sleep(2)
        idle_rate = (baseline.cpu_seconds(proxy.pid) - cpu0) / (time.monotonic() - t0)
        cpu0, t0 = baseline.cpu_seconds(proxy.pid), time.monotonic()
        asyncio.run(_direct(requests))
        used = baseline.cpu_seconds(proxy.pid) - cpu0 - idle_rate * (time.monotonic() - t0)
    return max(used, 0.0) * 1000 / (requests // CONCURRENCY * CONCURRENCY)


def measure(
    kind: Kind, numbers: Sequence[int], signers: list[SignedSession], cgroup_of: dict[str, str]
) -> tuple[Phase, dict[int, bytes]]:
    """Warm up (the numbers from WARMUP_BASE, not measured), then the measured requests (those below it)."""
    bodies = asyncio.run(drive(kind, [n for n in numbers if n >= WARMUP_BASE], signers, None))
    phase = Phase()
    before, cpu0, t0 = snapshot(cgroup_of), driver_cpu(), time.monotonic()
    bodies |= asyncio.run(drive(kind, [n for n in numbers if n < WARMUP_BASE], signers, phase))
    after, phase.driver_cpu_s, phase.seconds = snapshot(cgroup_of), driver_cpu() - cpu0, time.monotonic() - t0
    phase.served = len(phase.latencies_ms)
    phase.cpu = {name: after[name] - before.get(name, after[name]) for name in after}
    return phase, bodies


def kinds(run: str, catalogue: Catalogue, placed: dict[int, bytes]) -> list[Kind]:
    """The request kinds, in order: pay pays the orders the place phase placed (same numbers)."""
    sku = catalogue.skus[0]

    def order(n: int) -> dict[str, Any]:
        return {"order_id": f"{run}-{n}", "lines": [{"sku": catalogue.skus[n % len(catalogue.skus)], "quantity": 1}]}

    def payment(n: int) -> dict[str, Any]:
        return {"order_id": f"{run}-{n}", "amount_cents": json.loads(placed[n])["total_cents"]}

    return [
        Kind("product_read", lambda n: ("GET", f"/api/products/{sku}", None)),
        Kind("home", lambda n: ("GET", "/api/home", None)),
        Kind("cart_add", lambda n: ("PUT", f"/api/cart/items/{sku}", {"quantity": n % 5 + 1})),
        Kind("place_order", lambda n: ("POST", "/api/orders", order(n)), frozenset({201})),
        Kind("pay", lambda n: ("POST", "/api/payments", payment(n)), frozenset({200, 201})),
    ]


def idle(cgroup_of: dict[str, str], seconds: float) -> dict[str, float]:
    """Each container's CPU rate (cores) with no traffic at all."""
    before, t0 = snapshot(cgroup_of), time.monotonic()
    time.sleep(seconds)
    after, elapsed = snapshot(cgroup_of), time.monotonic() - t0
    return {name: max(after[name] - before.get(name, after[name]), 0.0) / elapsed for name in after}


def per_request(phase: Phase, rates: dict[str, float]) -> dict[str, Any]:
    """The phase's figures: ms of CPU per served request by report row (idle subtracted), rate, latency."""
    rows: dict[str, float] = defaultdict(float)
    for name, used in phase.cpu.items():
        rows[group(name)] += (used - rates.get(name, 0.0) * phase.seconds) * 1000 / max(phase.served, 1)
    return {
        "served": phase.served,
        "failed": phase.failed,
        "rps": phase.served / phase.seconds,
        "p50_ms": percentile(phase.latencies_ms, 0.50),
        "p99_ms": percentile(phase.latencies_ms, 0.99),
        "driver_ms": phase.driver_cpu_s * 1000 / max(phase.served, 1),
        "rows": dict(rows),
    }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def run(requests: int, only: set[str] | None = None) -> dict[str, Any]:
    stamp = f"cpu{int(time.time())}"
    catalogue = evidence.seed(stamp, tenants.appids()[:1])  # the one merchant login() signs in to
    cgroup_of = containers()
    signers = [asyncio.run(_login()) for _ in range(CONCURRENCY)]
    unit = baseline_ms(max(requests, 3000))  # before the lab's idle is measured, so it is not counted there
    before = idle(cgroup_of, IDLE_S)
    placed: dict[int, bytes] = {}
    phases = []
    for kind in kinds(stamp, catalogue, placed):
        if only and kind.name not in only and not (kind.name == "place_order" and "pay" in only):
            continue
        numbers = [*range(requests), *range(WARMUP_BASE, WARMUP_BASE + WARMUP)]
        # Pay pays only the orders placed: one the gateway queued under its rate limit (202) has no total yet.
        numbers = [n for n in numbers if n in placed] if kind.name == "pay" else numbers
        phase, bodies = measure(kind, numbers, signers, cgroup_of)
        if kind.name == "place_order":
            placed.update(bodies)
        phases.append((kind.name, phase))
    after = idle(cgroup_of, IDLE_S)
    # Idle measured before and after the traffic; their mean is what each phase is charged for idling.
    rates = {name: (before[name] + after.get(name, before[name])) / 2 for name in before}
    results = {name: per_request(phase, rates) for name, phase in phases}
    idle_rows: dict[str, float] = defaultdict(float)
    for name, cores in rates.items():
        idle_rows[group(name)] += cores
    return {"idle": dict(idle_rows), "kinds": results, "baseline_ms": unit}


async def _login() -> SignedSession:
    async with aiohttp.ClientSession() as http:
        return await login(http)


def _row(name: str, figures: dict[str, float], target: float | None) -> str:
    verdict = "" if target is None else (" (met)" if figures[name] <= target else f" (target {target}: missed)")
    return f"{figures[name]:.2f}{verdict}"


def report(found: dict[str, Any], command: str, seconds: float) -> str:
    kinds_ = found["kinds"]
    checkout = {"total": sum(sum(kinds_[k]["rows"].values()) for k in ("place_order", "pay"))}
    names = list(kinds_)
    rows = sorted({r for k in names for r in kinds_[k]["rows"]}, key=lambda r: -kinds_[names[0]]["rows"].get(r, 0))
    table = [f"| container | {' | '.join(names)} |", f"|---|{'---|' * len(names)}"]
    for row in rows:
        cells = " | ".join(f"{kinds_[k]['rows'].get(row, 0):.2f}" for k in names)
        table.append(f"| {row} | {cells} |")
    totals = {k: sum(kinds_[k]["rows"].values()) for k in names}
    table.append(f"| **total** | {' | '.join(f'**{totals[k]:.2f}**' for k in names)} |")
    unit = found["baseline_ms"]
    table.append(f"| **x baseline** | {' | '.join(f'**{totals[k] / unit:.0f}**' for k in names)} |")
    for label, key in (("requests/s", "rps"), ("p50 ms", "p50_ms"), ("p99 ms", "p99_ms"), ("driver ms", "driver_ms")):
        table.append(f"| {label} | {' | '.join(f'{kinds_[k][key]:.1f}' for k in names)} |")
    table.append(f"| not served | {' | '.join(str(kinds_[k]['failed'] or '-') for k in names)} |")
    idle_total = sum(found["idle"].values())
    idle_rows = "\n".join(f"| {r} | {c * 1000:.0f} |" for r, c in sorted(found["idle"].items(), key=lambda x: -x[1]))
    product = kinds_["product_read"]["rows"] | {"total": totals["product_read"]}
    budgets = TARGETS["product_read"]
    sidecars = {r: v for r, v in product.items() if "sidecar" in r and v > 0.05}
    return f"""## CPU per request

Machine: {platform.node()} ({os.cpu_count()} CPUs, {platform.platform()}); {datetime.now(UTC).date()};
`{command}` ({seconds:.0f} s). Every container's cgroup CPU over each phase, less its idle rate ({IDLE_S:.0f} s
with no traffic, before and after) times the phase's length, per request served; {CONCURRENCY} signed
clients through the edge, {WARMUP} warm-up requests per kind not counted; idle measured before and after
the traffic, their mean subtracted. ms of CPU per request:

{chr(10).join(table)}

Baseline, same run: an Envoy answering itself on loopback (one worker, driven as the kinds are) spends
**{unit:.3f}** ms of CPU per request; the row "x baseline" gives each kind's total in that unit, the figure to
compare across machines and days.

Against the budgets: a product read **{_row("total", product, budgets["total"])}** ms in total; gateway app
{_row("gateway app", product, budgets["gateway app"])}, product app {_row("product app", product, budgets["product app"])},
PostgreSQL {_row("PostgreSQL", product, budgets["PostgreSQL"])}; sidecar passes
{", ".join(f"{r} {v:.2f}" for r, v in sidecars.items())} (target {budgets["sidecar pass"]} each, the gateway's
sidecar makes two passes: inbound and outbound). A checkout (place + pay) **{checkout["total"]:.2f}** ms
(target {TARGETS["checkout"]["total"]}).

Idle lab: **{idle_total:.3f} cores** (target {TARGETS["idle_cores"]}); millicores by row:

| row | millicores |
|---|---|
{idle_rows}
"""


def main() -> int:
    parser = argparse.ArgumentParser(prog="benchmarks/cpu_per_request.py", description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1500, help="measured requests per kind")
    parser.add_argument("--kind", action="append", help="measure only these kinds (a try while profiling)")
    args = parser.parse_args()
    began = time.monotonic()
    found = run(args.requests, set(args.kind or ()))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(found, indent=1))
    if args.kind:
        print(json.dumps(found["kinds"], indent=1))
        return 0
    section = report(found, f"make bench-cpu (--requests {args.requests})", time.monotonic() - began)
    DOC.write_text(replace_section(DOC.read_text() if DOC.exists() else HEADER, "cpu", section))
    print(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
