"""Workload certificates renewed past half their life, and taken by a real Envoy without a restart."""

import http.client
import json
import ssl
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from envoy_run import run_envoy

from lab.mesh import compile as mesh
from lab.mesh import listeners, pki
from lab.mesh.clusters import TlsFiles
from lab.mesh.rotate import rotate

T0 = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)
GATEWAY = "spiffe://cluster.local/ns/miniapp/sa/gateway"


def _serial(pem: bytes) -> int:
    return x509.load_pem_x509_certificate(pem).serial_number


def _sidecar(pods: Path, name: str, ca: pki.Issued, spiffe: str, now: datetime = T0) -> Path:
    directory = pods / name
    pki.write(directory, ca, pki.issue(ca, spiffe, now))
    return directory


def test_a_certificate_is_renewed_once_half_its_life_has_passed_for_the_same_identity(tmp_path: Path) -> None:
    ca = pki.new_ca("cluster.local", T0)
    directory = _sidecar(tmp_path, "gateway-v1-0", ca, GATEWAY)
    before = (directory / "cert.pem").read_bytes()
    # Valid from 5 minutes before issue for an hour after: half its life is 27.5 minutes after issue.
    assert rotate(tmp_path, ca, T0 + timedelta(minutes=27)) == []
    assert rotate(tmp_path, ca, T0 + timedelta(minutes=28)) == ["gateway-v1-0"]
    after = (directory / "cert.pem").read_bytes()
    assert _serial(after) != _serial(before)
    assert pki.identity(after) == GATEWAY
    x509.load_pem_x509_certificate(after).verify_directly_issued_by(x509.load_pem_x509_certificate(ca.cert_pem))
    (resource,) = json.loads((directory / "default.json").read_text())["resources"]
    assert resource["name"] == "default"
    assert resource["tls_certificate"]["certificate_chain"]["inline_string"] == after.decode()
    assert (directory / "default.json").stat().st_mode & 0o777 == 0o600
    assert (directory / "key.pem").stat().st_mode & 0o777 == 0o600
    assert not list(directory.glob(".*.part"))
    assert rotate(tmp_path, ca, T0 + timedelta(minutes=29)) == []


def test_force_renews_every_sidecar_and_leaves_other_directories_alone(tmp_path: Path) -> None:
    ca = pki.new_ca("cluster.local", T0)
    for name in ("gateway-v1-0", "ingress"):
        _sidecar(tmp_path, name, ca, GATEWAY)
    (tmp_path / "gateway-v1-0" / "volumes").mkdir()
    assert rotate(tmp_path, ca, T0, force=True) == ["gateway-v1-0", "ingress"]


def _handshake(port: int, context: ssl.SSLContext) -> http.client.HTTPSConnection:
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=5)
    conn.request("GET", "/ready")
    assert conn.getresponse().read().strip() == b"LIVE"
    return conn


def _served(conn: http.client.HTTPSConnection) -> int:
    der = conn.sock.getpeercert(binary_form=True)
    return x509.load_der_x509_certificate(der).serial_number


def test_envoy_serves_a_renewed_certificate_without_a_restart_or_a_dropped_connection(tmp_path: Path) -> None:
    """A real Envoy's STRICT inbound listener reading the SDS files: after a renewal, the next handshake gets
    the new certificate (TLS 1.3), and a connection opened before it still answers."""
    ca = pki.new_ca("cluster.local")
    pods = tmp_path / "pods"
    served = _sidecar(pods, "order-v1-0", ca, "spiffe://cluster.local/ns/trade/sa/order", datetime.now(UTC))
    client = _sidecar(tmp_path, "client", ca, GATEWAY, datetime.now(UTC))
    context = ssl.create_default_context(cafile=client / "ca.pem")
    context.check_hostname = False
    context.load_cert_chain(client / "cert.pem", client / "key.pem")
    # The inbound listener routes to the admin's stats cluster: GET /ready answers LIVE through it.
    inbound = listeners.inbound("127.0.0.1", 0, "prometheus_stats", TlsFiles(str(served)), "cluster.local", None)
    config = mesh._bootstrap("order", "order", [inbound], [], mesh.stats_config({}))

    def ask(ports: dict[str, int]) -> dict[str, object]:
        port = ports[inbound["name"]]
        first = _handshake(port, context)
        before = _served(first)
        renewed = rotate(pods, ca, datetime.now(UTC), force=True)
        new = _serial((served / "cert.pem").read_bytes())
        deadline, after = time.monotonic() + 10, before
        while after != new and time.monotonic() < deadline:
            time.sleep(0.2)
            after = _served(_handshake(port, context))
        first.request("GET", "/ready")
        return {"renewed": renewed, "changed": before != after == new, "old connection": first.getresponse().status,
                "version": first.sock.version()}  # fmt: skip

    answers = run_envoy(tmp_path, config, ask)
    assert answers == {"renewed": ["order-v1-0"], "changed": True, "old connection": 200, "version": "TLSv1.3"}
