"""What the kubelet does to a running Deployment, on the lab (its stand-in, lab/mesh/kubelet.py): a pay replica's
app container killed with SIGKILL during signed checkouts is started again within its back-off and serves,
client errors stay within the fault budget and the saga's invariants hold; the other pay replica deleted during
signed checkouts leaves its callers' endpoints, drains and comes back once ready, failing no request; an app
that hangs leaves its callers' endpoints by its readiness probe, then is stopped by its liveness probe and
started again. Traffic goes only to the lab's edge on loopback, in bounded loops."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx
import pytest
from conftest import INGRESS, ROOT, STATE

from lab.mesh import kubelet, probe, prober, state
from lab.mesh.compile import APP_HEALTH_PORT
from lab.mesh.probe import set_fault
from lab.podman import podman
from load import evidence, tenants
from miniapp_services.clients.signed import SignedSession, login

KILLED, DELETED, HUNG = "pay-v1-1", "pay-v1-0", "coupon-v1-0"
WORKERS, SECONDS, KILL_AT_S = 6, 40.0, 10.0
FAULT_BUDGET = 0.05  # the handover's fault budget for a drill
# A first crash is started again at once (back-off 0 s); then the app starts and passes its readiness probe.
RESTART_BOUND_S = 30.0
# failureThreshold (3) x periodSeconds (10) and a probe's timeout, the grace period's SIGTERM ignored (30 s, the
# loop is blocked), then the start: the Deployment's numbers, not the lab's.
LIVENESS_BOUND_S = 3 * 10 + 1 + 30 + RESTART_BOUND_S
# failureThreshold (3) x periodSeconds (coupon is P1: 10 s) and a probe's timeout; the stand-in writes the
# endpoints at once and the sidecars follow within a second.
READINESS_BOUND_S = 3 * 10 + 1 + 2
ORDERED, PAID = frozenset({201, 202}), frozenset({200, 201})
FIGURES = ROOT / ".cache" / "kubelet" / "figures.json"
DELETE_FIGURES = FIGURES.with_name("delete.json")


@dataclass
class Worker:
    signer: SignedSession
    outcomes: list[tuple[float, str, int]] = field(default_factory=list)  # (seconds since start, step, status)
    killed_epoch: float = 0.0  # when the drill's kill was sent (the first worker keeps it)


async def _checkouts(n: int, worker: Worker, client: httpx.AsyncClient, sku: str, start: float) -> None:
    i = 0
    while (now := time.monotonic() - start) < SECONDS:
        i += 1
        order_id = f"kubelet-{int(start)}-{n}-{i}"
        body = {"order_id": order_id, "lines": [{"sku": sku, "quantity": 1}]}
        try:
            placed = await client.post("/api/orders", json=body, auth=worker.signer)
            worker.outcomes.append((now, "order", placed.status_code))
            if placed.status_code == 201:
                pay = {"order_id": order_id, "amount_cents": placed.json()["total_cents"]}
                paid = await client.post("/api/payments", json=pay, auth=worker.signer)
                worker.outcomes.append((time.monotonic() - start, "pay", paid.status_code))
        except httpx.HTTPError:
            worker.outcomes.append((now, "transport", 0))
        await asyncio.sleep(0.1)


async def _drill(workers: list[Worker], sku: str, before: str, bound_s: float) -> tuple[float, float]:
    """The checkouts; the kill at KILL_AT_S. When it was killed (s since start) and how long until it served."""
    start = time.monotonic()
    async with httpx.AsyncClient(base_url=INGRESS, timeout=10) as client:
        loops = [asyncio.create_task(_checkouts(n, w, client, sku, start)) for n, w in enumerate(workers)]
        await asyncio.sleep(KILL_AT_S)
        killed_at = time.monotonic() - start
        workers[0].killed_epoch = time.time()
        await asyncio.to_thread(podman, "kill", "-s", "KILL", f"{KILLED}-app")
        took = await asyncio.to_thread(probe.until, lambda: probe.ready_again(KILLED, before), bound_s)
        await asyncio.gather(*loops)
    assert took is not None, f"{KILLED} was not serving again within {bound_s} s of its kill"
    return killed_at, took


@pytest.fixture(scope="module")
def crash() -> dict[str, object]:
    catalogue = evidence.seed(f"kubelet{int(time.time())}", tenants.appids()[:WORKERS])
    with httpx.Client(base_url=INGRESS, timeout=10) as client:
        workers = [
            Worker(login(client, tenants.appids()[n % len(tenants.appids())], f"code-kubelet-{n}"))
            for n in range(WORKERS)
        ]
    before = probe.started(f"{KILLED}-app")
    # Killed before (the handover's crash drill in make lab): the kubelet owes it a back-off now.
    history = _ended_since(f"{KILLED}-app", 0.0)
    bound_s = RESTART_BOUND_S + kubelet.backoff_owed(history, time.time())
    killed_at, took = asyncio.run(_drill(workers, catalogue.skus[1], before, bound_s))
    outcomes = [o for w in workers for o in w.outcomes]
    failed = [(t, step, status) for t, step, status in outcomes if status not in (ORDERED if step == "order" else PAID)]
    figures = {"requests": len(outcomes), "failed": len(failed), "failed_by_status": Counter(f"{s} {c}" for _, s, c in failed),
               "serving_after_kill_s": took, "killed_at_s": killed_at}  # fmt: skip
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    FIGURES.write_text(json.dumps(figures, indent=1))
    return {"outcomes": outcomes, "failed": failed, "killed_at": killed_at, "took": took,
            "killed_epoch": workers[0].killed_epoch, "history": history}  # fmt: skip


def _ended_since(container: str, since: float) -> list[kubelet.Termination]:
    return [t for t in kubelet.terminations(STATE, since) if t.container == container]


def test_a_killed_app_container_is_started_again_after_its_back_off_and_serves(crash: dict[str, object]) -> None:
    """The stand-in saw the SIGKILL (exit 137, a crash, not its probe) and started it after the back-off its crash
    history owes (at once for a first crash; 10 s after the handover's drill killed it minutes before)."""
    (ended,) = _ended_since(f"{KILLED}-app", float(str(crash["killed_epoch"])))
    history = crash["history"]
    assert isinstance(history, list)
    owed = kubelet.backoff_owed(history, ended.at)
    assert (ended.exit_code, ended.oom_killed, ended.liveness, ended.restart_in_s) == (137, False, False, owed)
    assert float(str(crash["took"])) <= RESTART_BOUND_S + owed


def test_client_errors_stay_within_the_fault_budget(crash: dict[str, object]) -> None:
    outcomes, failed = crash["outcomes"], crash["failed"]
    assert isinstance(outcomes, list)
    assert isinstance(failed, list)
    assert len(outcomes) > 100
    statuses = Counter(f"{step} {status}" for _, step, status in failed)
    assert len(failed) / len(outcomes) <= FAULT_BUDGET, f"{len(failed)} of {len(outcomes)} failed: {statuses}"


@pytest.mark.usefixtures("crash")
def test_the_saga_invariants_hold_after_the_crash() -> None:
    violations, unfinished = evidence.saga_invariants()
    assert not any(violations.values()), violations
    assert unfinished == []


def _cluster(service: str) -> tuple[str, str, int]:
    """A pod that calls the service, the service's first port's outbound cluster as Istio names it, and the
    number of its pods."""
    lab = state.load()
    found = lab.service(service)
    cluster = f"outbound|{found.ports[0]}||{found.fqdn}"
    return lab.callers_of(service)[0].name, cluster, len(lab.pods_of(service))


def test_a_hung_app_leaves_its_callers_endpoints_then_is_restarted_by_its_liveness_probe() -> None:
    caller, coupon, replicas = _cluster("coupon")
    assert probe.members(caller, coupon) == replicas
    before, hung_at = probe.started(f"{HUNG}-app"), time.time()
    set_fault(HUNG, {"hang": True})
    left = probe.until(lambda: probe.members(caller, coupon) == replicas - 1, READINESS_BOUND_S)
    assert left is not None, f"{HUNG} hung {READINESS_BOUND_S} s and its callers still send to it"
    took = probe.until(lambda: probe.ready_again(HUNG, before), LIVENESS_BOUND_S)
    assert took is not None, f"{HUNG} hung for {LIVENESS_BOUND_S} s without being restarted"
    (ended,) = _ended_since(f"{HUNG}-app", hung_at)
    assert (ended.liveness, ended.exit_code) == (True, 137)  # its SIGTERM unhandled: killed after the grace period
    assert probe.until(lambda: probe.members(caller, coupon) == replicas, READINESS_BOUND_S) is not None


async def _deletion(workers: list[Worker], sku: str) -> dict[str, object]:
    """The checkouts; at KILL_AT_S the pod is deleted through the stand-in (returning once its replacement
    started); then its callers' membership until it is back."""
    start = time.monotonic()
    caller, pay, replicas = _cluster("pay")
    async with httpx.AsyncClient(base_url=INGRESS, timeout=10) as client:
        loops = [asyncio.create_task(_checkouts(n, w, client, sku, start)) for n, w in enumerate(workers)]
        await asyncio.sleep(KILL_AT_S)
        answer = await asyncio.to_thread(kubelet.delete_pod, STATE, DELETED)
        members_then = await asyncio.to_thread(probe.members, caller, pay)
        back = await asyncio.to_thread(probe.until, lambda: probe.members(caller, pay) == replicas, READINESS_BOUND_S)
        await asyncio.gather(*loops)
    return {**answer, "replicas": replicas, "members_before_ready": members_then, "back_in_endpoints_s": back}


def test_a_deleted_pod_drains_out_of_its_callers_endpoints_and_fails_no_request() -> None:
    """Kubernetes' order (endpoints first, the app's grace to drain, the sidecar last) during signed checkouts:
    not one request fails; the replacement joins its callers' endpoints only once ready."""
    catalogue = evidence.seed(f"delete{int(time.time())}", tenants.appids()[:WORKERS])
    with httpx.Client(base_url=INGRESS, timeout=10) as client:
        workers = [Worker(login(client, tenants.appids()[n], f"code-delete-{n}")) for n in range(WORKERS)]
    figures = asyncio.run(_deletion(workers, catalogue.skus[2]))
    outcomes = [o for w in workers for o in w.outcomes]
    failed = [(t, step, status) for t, step, status in outcomes if status not in (ORDERED if step == "order" else PAID)]
    DELETE_FIGURES.write_text(json.dumps({**figures, "requests": len(outcomes), "failed": len(failed)}, indent=1))
    assert len(outcomes) > 100
    assert failed == [], f"{len(failed)} of {len(outcomes)} failed: {Counter(f'{s} {c}' for _, s, c in failed)}"
    assert figures["members_before_ready"] == figures["replicas"] - 1  # the replacement started, not yet ready
    assert figures["back_in_endpoints_s"] is not None, f"{DELETED} was not back in its callers' endpoints"


def test_the_nonce_stores_tcp_probes_are_answered_by_its_sidecar_and_keep_it_in_the_gateways_endpoints() -> None:
    """Istio's rewrite of a tcpSocket probe: 15020 answers livez and readyz from a connect check of Redis' port,
    and the stand-in's readiness keeps the store in the gateway's endpoints."""
    store = state.load().pods_of("nonces")[0]
    answers = {
        kind: httpx.get(f"http://{store.ip}:{APP_HEALTH_PORT}{path}", timeout=5).status_code
        for kind, path in (("livez", prober.LIVEZ), ("readyz", prober.READYZ))
    }
    assert answers == {"livez": 200, "readyz": 200}
    caller, cluster, replicas = _cluster("nonces")
    assert probe.members(caller, cluster) == replicas == 1
