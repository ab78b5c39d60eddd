"""Working set of every service container, idle and under a bounded load, against its 96 MiB budget.

Runs all 12 services from the services image as podman containers on the host's loopback (host network,
nothing else is reached) against a throwaway PostgreSQL, drives each with a fixed number of requests,
samples each container's cgroup while it is driven, and writes the table to docs/benchmarks.md.
Run through `make bench-services`.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import yaml

from benchmarks.services_load import AS_TENANT, LOADS
from benchmarks.write_section import DOC, HEADER, replace_section
from lab import cgroups
from lab.podman import podman
from miniapp_services.kit.settings import SERVICES
from tools import pgtmp, redistmp, tenantstmp

ROOT = Path(__file__).resolve().parents[1]

BUDGET_MIB = 96
REQUESTS = 1500
CONCURRENCY = 16
# Who calls whom comes from the service catalog, the one place that says it.
CALLS = {
    name: tuple(spec.get("calls", ()))
    for name, spec in yaml.safe_load((ROOT / "inventories/lab/group_vars/all/services_catalog.yml").read_text())[
        "services_catalog"
    ]["services"].items()
}
MIB = 1024 * 1024


def cgroup_path(container: str) -> str:
    """The container's cgroup, as lab/cgroups.py reads it (pods nest their containers one level deeper)."""
    return podman("inspect", "--format", "{{.State.CgroupPath}}", container)


@dataclass
class Container:
    service: str
    http_port: int
    grpc_port: int
    id: str = ""
    cgroup: str = ""
    idle: int = 0
    peak: int = 0
    errors: int = 0
    ok: int = 0
    samples: list[int] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"


def env_args(c: Container, database: str, ports: dict[str, Container], tenants: Path, nonces: str) -> list[str]:
    settings = {
        "SERVICE": c.service,
        "DATABASE_URL": database,
        "HTTP_HOST": "127.0.0.1",
        "HTTP_PORT": str(c.http_port),
        "GRPC_PORT": str(c.grpc_port),
        "DEPENDENCIES": json.dumps({d: f"127.0.0.1:{ports[d].grpc_port}" for d in CALLS[c.service]}),
        "UPSTREAMS": json.dumps({d: ports[d].url for d in CALLS[c.service]}),
    }
    mounts: list[str] = []
    if c.service == "gateway":
        settings["TENANTS_FILE"] = "/etc/miniapp-tenants/tenants.json"
        settings["STORES"] = json.dumps({"nonces": nonces})
        mounts = ["-v", f"{tenants}:{settings['TENANTS_FILE']}:ro"]
    return [*mounts, *(arg for k, v in settings.items() for arg in ("-e", f"MINIAPP_{k}={v}"))]


def start(c: Container, image: str, env: list[str]) -> None:
    common = ["--network", "host", "--memory", "256m", *env, image]
    podman("run", "--rm", *common[:-1], "--entrypoint", "python3", image, "-m", "miniapp_services", "migrate")
    c.id = podman("run", "-d", "--name", f"miniapp-bench-{c.service}", *common, "serve")
    c.cgroup = cgroup_path(c.id)


def wait_healthy(c: Container, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{c.url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.3)
    raise RuntimeError(f"{c.service} did not become healthy: {podman('logs', '--tail', '20', c.id)}")


def sample_while(c: Container, running: threading.Event) -> None:
    while running.is_set():
        c.samples.append(cgroups.read(c.cgroup).working_set_bytes)
        time.sleep(0.1)


async def drive(c: Container, request: Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]]) -> None:
    """REQUESTS calls, CONCURRENCY at a time; a bounded loop that stops by itself."""
    counter = iter(range(REQUESTS))
    limits = httpx.Limits(max_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=c.url, limits=limits, timeout=10, headers=AS_TENANT) as client:

        async def worker() -> None:
            for n in counter:
                reply = await request(client, n)
                c.errors += reply.status_code >= 500
                c.ok += reply.status_code < 300

        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))


def measure(c: Container, request: Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]]) -> None:
    c.idle = cgroups.read(c.cgroup).working_set_bytes
    running = threading.Event()
    running.set()
    sampler = threading.Thread(target=sample_while, args=(c, running))
    sampler.start()
    try:
        asyncio.run(drive(c, request))
    finally:
        running.clear()
        sampler.join()
    c.peak = max([c.idle, *c.samples])


def table(containers: list[Container]) -> str:
    rows = [
        "| service | idle MiB | peak MiB under load | budget MiB | headroom at peak | 2xx | 5xx |",
        "|---|---|---|---|---|---|---|",
    ]
    for c in containers:
        head = BUDGET_MIB - c.peak / MIB
        rows.append(
            f"| {c.service} | {c.idle / MIB:.1f} | {c.peak / MIB:.1f} | {BUDGET_MIB} | {head:.1f} MiB ({head / BUDGET_MIB:.0%}) | {c.ok} | {c.errors} |"
        )
    return "\n".join(rows)


def report(containers: list[Container], image: str) -> str:
    over = [c.service for c in containers if c.peak > BUDGET_MIB * MIB]
    verdict = "every service stayed within its budget" if not over else f"OVER BUDGET: {', '.join(over)}"
    return f"""## Services: working set per container, idle and under load

Machine: {os.cpu_count()} cores, kernel {platform.release()}, image {image}.
Date: {datetime.now(UTC):%Y-%m-%d}. Command: `make bench-services` (benchmarks/services_memory.py).
All 12 containers ran at once on the host's loopback against a throwaway PostgreSQL, each driven in turn with {REQUESTS} requests,
{CONCURRENCY} at a time (benchmarks/services_load.py says which). Working set = cgroup
memory.usage_in_bytes - total_inactive_file, sampled every 100 ms. 2xx below {REQUESTS} are the domain's own
refusals (a flash sale of 100 units, one check-in per user and day, coupons one per user). Result: {verdict}.

{table(containers)}
"""


def main() -> int:
    image = subprocess.run(
        [str(ROOT / "services/image/build.sh"), "--tag-only"], check=True, capture_output=True, text=True
    ).stdout.strip()
    containers = {s: Container(s, 18100 + i, 18200 + i) for i, s in enumerate(SERVICES)}
    with (
        pgtmp.postgres() as database,
        redistmp.redis() as nonces,
        tenantstmp.tenants_file(tenantstmp.BENCH_TENANT) as tenants,
    ):
        try:
            for c in containers.values():
                start(c, image, env_args(c, database, containers, tenants, nonces))
            for c in containers.values():
                wait_healthy(c)
            time.sleep(3)
            for c in containers.values():
                measure(c, LOADS[c.service](containers))
        finally:
            for c in containers.values():
                if c.id:
                    podman("rm", "-f", "-t", "5", c.id, check=False)
    text = DOC.read_text() if DOC.exists() else HEADER
    DOC.write_text(replace_section(text, "services", report(list(containers.values()), image)))
    print(table(list(containers.values())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
