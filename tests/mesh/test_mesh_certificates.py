"""Certificate renewal on the running lab: the CA container re-issues every sidecar's certificate during a
signed load; every sidecar serves its new one at the next handshake, without a restart or a failed request."""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from conftest import INGRESS, STATE, mesh_tls
from cryptography import x509

from lab.mesh import pki, state
from lab.mesh.up import CA_CONTAINER, INGRESS_SIDECAR
from lab.podman import podman
from load import evidence, tenants
from miniapp_services.clients.signed import SignedSession, login

SKU = "E2E-CERT"
WORKERS, BEFORE, AFTER = 8, 150, 300  # requests before the renewal starts and after it has ended
BOUND_S = 90


def _served(address: tuple[str, int]) -> int:
    """The serial of the certificate a sidecar presents to a new mTLS connection (as the gateway's workload)."""
    raw = socket.create_connection(address, timeout=5)
    with raw, mesh_tls("gateway-v1-0").wrap_socket(raw) as conn:
        der = conn.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der).serial_number


def _issued(name: str) -> int:
    return x509.load_pem_x509_certificate((STATE / "pods" / name / "cert.pem").read_bytes()).serial_number


def _started(lab: state.LabState) -> str:
    """When each of the mesh's containers was last started (a restart changes it)."""
    names = [c for p in lab.pods for c in (p.app_container, p.sidecar_container)] + [INGRESS_SIDECAR, CA_CONTAINER]
    return podman("inspect", "--format", "{{.Name}} {{.State.StartedAt}}", *names)


async def _until(enough: Callable[[], bool]) -> None:
    deadline = time.monotonic() + BOUND_S
    while not enough():
        if time.monotonic() > deadline:
            raise TimeoutError(f"the load did not get there within {BOUND_S} s")
        await asyncio.sleep(0.05)


async def _load_around(token: SignedSession, renew: Callable[[], str]) -> tuple[list[int], str]:
    """Signed reads through the ingress, the gateway and product (two mTLS hops) from WORKERS clients: BEFORE of
    them, then renew() while they go on, then AFTER more. Every answer's status, and what renew() said."""
    codes: list[int] = []
    stop = asyncio.Event()
    async with httpx.AsyncClient(base_url=INGRESS, timeout=10, auth=token) as client:

        async def worker() -> None:
            while not stop.is_set():
                codes.append((await client.get(f"/api/products/{SKU}")).status_code)

        workers = [asyncio.create_task(worker()) for _ in range(WORKERS)]
        try:
            await _until(lambda: len(codes) >= BEFORE)
            said = await asyncio.to_thread(renew)
            renewed_at = len(codes)
            await _until(lambda: len(codes) >= renewed_at + AFTER)
        finally:
            stop.set()
            await asyncio.gather(*workers)
    return codes, said


def test_every_certificate_renewed_during_a_signed_load_fails_no_request() -> None:
    lab = state.load()
    evidence.write_catalogue(tenants.appids()[1:2], {SKU: {"title": "Cert", "price_cents": 100, "category": "e2e"}})
    with httpx.Client(base_url=INGRESS, timeout=10) as client:
        token = login(client, tenants.appids()[1], "code-e2e-certificates")
    addresses = {p.name: (p.ip, lab.service(p.service).ports[0]) for p in lab.pods}
    before, started = {name: _served(address) for name, address in addresses.items()}, _started(lab)
    assert before == {name: _issued(name) for name in addresses}

    renew = ("exec", CA_CONTAINER, "python3", "-m", "lab.mesh.rotate", "/state/pods", "/state/ca", "--force")
    codes, said = asyncio.run(_load_around(token, lambda: podman(*renew)))
    assert len(codes) >= BEFORE + AFTER
    assert {code: codes.count(code) for code in set(codes)} == {200: len(codes)}
    assert f"renewed {len(addresses) + 1} certificates" in said  # every pod's sidecar and the ingress's
    deadline, after = time.monotonic() + 10, {}
    while time.monotonic() < deadline:
        after = {name: _served(address) for name, address in addresses.items()}
        if after == {name: _issued(name) for name in addresses}:
            break
        time.sleep(0.5)
    assert after == {name: _issued(name) for name in addresses}
    assert not set(after.items()) & set(before.items())
    assert _started(lab) == started, "a container was restarted"


def test_sidecars_refuse_a_certificate_from_another_ca(tmp_path: Path) -> None:
    """A client certificate for the gateway's own identity, from a CA the mesh does not trust, is refused at the
    handshake: the renewals did not widen what the sidecars accept."""
    stranger = pki.new_ca("cluster.local")
    issued = pki.issue(stranger, "spiffe://cluster.local/ns/miniapp/sa/gateway")
    directory = tmp_path / "stranger"
    pki.write(directory, stranger, issued)
    lab = state.load()
    order = lab.pod("order-v1-0")
    context = ssl.create_default_context(cafile=STATE / "pods" / "order-v1-0" / "ca.pem")
    context.check_hostname = False
    context.load_cert_chain(directory / "cert.pem", directory / "key.pem")
    refused = False
    try:
        raw = socket.create_connection((order.ip, 8080), timeout=5)
        with raw, context.wrap_socket(raw) as conn:
            conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: order\r\n\r\n")
            refused = not conn.recv(100).startswith(b"HTTP/")
    except (ssl.SSLError, ConnectionResetError):
        refused = True
    assert refused
