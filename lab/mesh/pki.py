"""The lab's mesh CA and per-workload certificates: one SPIFFE URI SAN each, as Istio's CA issues them, with
the design's 1 h lifetime, handed to each sidecar as SDS files that Envoy reloads when they are replaced.

Imports nothing but the standard library and cryptography: the lab's CA container (lab/mesh/rotate.py) runs it
on the node image's Python."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALIDITY = timedelta(hours=1)  # the design's SPIRE-issued workload certificates: 1 h
CA_VALIDITY = timedelta(days=30)  # outlives any lab; `make lab` makes a new CA when it recreates the mesh
# Istio's agent renews a certificate once half its life has passed (SECRET_GRACE_PERIOD_RATIO 0.5).
RENEW_AT = 0.5
# Istio's SDS resource names: the workload's certificate and the mesh's root.
CERTIFICATE, ROOT = "default", "ROOTCA"
SDS_RESOURCE = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret"


@dataclass(frozen=True)
class Issued:
    cert_pem: bytes
    key_pem: bytes


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def new_ca(trust_domain: str, now: datetime | None = None) -> Issued:
    now = now or datetime.now(UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, trust_domain),
            x509.NameAttribute(NameOID.COMMON_NAME, "miniapp lab mesh CA"),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .sign(key, hashes.SHA256())
    )
    return Issued(cert.public_bytes(serialization.Encoding.PEM), _key_pem(key))


def issue(ca: Issued, spiffe_id: str, now: datetime | None = None, validity: timedelta = VALIDITY) -> Issued:
    """A workload certificate whose only identity is its SPIFFE URI (client and server use)."""
    now = now or datetime.now(UTC)
    ca_cert = x509.load_pem_x509_certificate(ca.cert_pem)
    ca_key = serialization.load_pem_private_key(ca.key_pem, password=None)
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        raise TypeError("the CA's key is not an EC key: issue from a CA made by new_ca()")
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + validity)
        .add_extension(x509.SubjectAlternativeName([x509.UniformResourceIdentifier(spiffe_id)]), critical=True)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return Issued(cert.public_bytes(serialization.Encoding.PEM), _key_pem(key))


def _replace(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write path whole or not at all (a rename in its directory): Envoy reloads an SDS file on that move, and a
    reader never sees half a key."""
    part = path.with_name(f".{path.name}.part")
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.chmod(part, mode)
    os.replace(part, path)


def _sds(name: str, secret: dict[str, Any]) -> bytes:
    """One SDS file: a discovery response holding one Secret, as Envoy's path_config_source reads it."""
    return json.dumps({"resources": [{"@type": SDS_RESOURCE, "name": name, **secret}]}).encode()


def write(directory: Path, ca: Issued, workload: Issued) -> None:
    """One sidecar's certificate: the SDS files its Envoy reads (default.json, 0600, and ROOTCA.json), and the
    same as PEM (cert.pem, key.pem 0600, ca.pem) for the tests' clients. Each file is replaced whole; the
    certificate's SDS file last, so the PEM files are never older than what Envoy serves."""
    directory.mkdir(parents=True, exist_ok=True)
    _replace(directory / "ca.pem", ca.cert_pem)
    _replace(directory / "cert.pem", workload.cert_pem)
    _replace(directory / "key.pem", workload.key_pem, 0o600)
    trusted = {"validation_context": {"trusted_ca": {"inline_string": ca.cert_pem.decode()}}}
    _replace(directory / f"{ROOT}.json", _sds(ROOT, trusted))
    pair = {"certificate_chain": {"inline_string": workload.cert_pem.decode()},
            "private_key": {"inline_string": workload.key_pem.decode()}}  # fmt: skip
    _replace(directory / f"{CERTIFICATE}.json", _sds(CERTIFICATE, {"tls_certificate": pair}), 0o600)


def save_ca(directory: Path, ca: Issued) -> None:
    """The CA for the CA container that renews the certificates (key 0600 in a 0700 directory)."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    _replace(directory / "ca.pem", ca.cert_pem)
    _replace(directory / "ca.key", ca.key_pem, 0o600)


def load_ca(directory: Path) -> Issued:
    return Issued((directory / "ca.pem").read_bytes(), (directory / "ca.key").read_bytes())


def _utc(cert: x509.Certificate, field: str) -> datetime:
    """A validity bound as an aware datetime (cryptography 42 adds *_utc; the node image's 38 has the naive one)."""
    aware = getattr(cert, f"{field}_utc", None)
    return aware if isinstance(aware, datetime) else getattr(cert, field).replace(tzinfo=UTC)


def identity(cert_pem: bytes) -> str:
    """The SPIFFE URI a workload certificate carries."""
    cert = x509.load_pem_x509_certificate(cert_pem)
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return str(sans.get_values_for_type(x509.UniformResourceIdentifier)[0])


def due(cert_pem: bytes, now: datetime) -> bool:
    """Whether a certificate has lived past RENEW_AT of its lifetime (or is not valid from now on)."""
    cert = x509.load_pem_x509_certificate(cert_pem)
    start, end = _utc(cert, "not_valid_before"), _utc(cert, "not_valid_after")
    return now >= start + (end - start) * RENEW_AT
