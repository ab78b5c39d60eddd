# -*- coding: utf-8 -*-
# Copyright: miniapp-mesh contributors
# Apache-2.0 (see LICENSE)
"""Whether issued leaf certificates are still what the PKI tasks would issue: PEM in, reasons out.

One call judges every leaf of a host, so a rerun with nothing to do costs one task instead of
six per certificate (key, CSR, read, sign, install, directory).
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import datetime
import ipaddress
from collections.abc import Mapping, Sequence
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

USAGES = {"serverAuth": ExtendedKeyUsageOID.SERVER_AUTH, "clientAuth": ExtendedKeyUsageOID.CLIENT_AUTH}
EXPIRING = "expiring"


def _public_der(key: Any) -> bytes:
    der: bytes = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return der


def _signed_by(cert: x509.Certificate, ca: x509.Certificate) -> bool:
    """True when ``ca``'s key made ``cert``'s signature (EC or RSA CAs, as community.crypto makes them)."""
    key, digest = ca.public_key(), cert.signature_hash_algorithm
    if digest is None:
        return False
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(digest))
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), digest)
        else:
            return False
    except InvalidSignature:
        return False
    return cert.issuer == ca.subject


def _extension(cert: x509.Certificate, kind: type[x509.ExtensionType]) -> Any:
    try:
        return cert.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None


def san_names(cert: x509.Certificate) -> set[str]:
    """The certificate's subject alternative names written as the CSR task takes them (``DNS:x``, ``IP:y``)."""
    sans = _extension(cert, x509.SubjectAlternativeName)
    if sans is None:
        return set()
    names = {"DNS:" + name for name in sans.get_values_for_type(x509.DNSName)}
    return names | {"IP:" + str(ip) for ip in sans.get_values_for_type(x509.IPAddress)}


def _normal_san(name: str) -> str:
    kind, _sep, value = name.partition(":")
    return "IP:" + str(ipaddress.ip_address(value)) if kind == "IP" else name


def _not_after(cert: x509.Certificate) -> datetime.datetime:
    when: datetime.datetime | None = getattr(cert, "not_valid_after_utc", None)
    return when if when is not None else cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)


def mismatch(cert: x509.Certificate, key: Any, leaf: Mapping[str, Sequence[str] | str]) -> str | None:
    """What differs between an issued certificate and its key and the leaf's spec; None when nothing."""
    if _public_der(cert.public_key()) != _public_der(key.public_key()):
        return "the certificate is not for the private key beside it"
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if [n.value for n in names] != [leaf["common_name"]]:
        return "common name is not %s" % leaf["common_name"]
    if san_names(cert) != {_normal_san(name) for name in leaf["sans"]}:
        return "subject alternative names are not %s" % (", ".join(sorted(leaf["sans"])) or "none")
    usage = _extension(cert, x509.ExtendedKeyUsage)
    if set(usage or ()) != {USAGES[name] for name in leaf["usage"]}:
        return "extended key usage is not %s" % ", ".join(leaf["usage"])
    return None


def judge(
    ca_pem: bytes,
    leaf: Mapping[str, Sequence[str] | str],
    cert_pem: bytes | None,
    key_pem: bytes | None,
    now: datetime.datetime,
    renew_before: datetime.timedelta,
) -> str | None:
    """Why one leaf must be issued again, or None when it is current.

    Args:
        ca_pem: The CA certificate, PEM.
        leaf: The spec: ``common_name``, ``sans`` (``DNS:``/``IP:`` names) and ``usage`` (EKU names).
        cert_pem: The issued certificate, PEM, or None when there is none.
        key_pem: Its private key, PEM, or None when there is none.
        now: The time to judge at, timezone-aware.
        renew_before: How long before expiry a certificate counts as expiring.

    Returns:
        None, ``EXPIRING``, or a sentence saying what is wrong.
    """
    if cert_pem is None or key_pem is None:
        return "no %s yet" % ("certificate" if key_pem is not None else "private key")
    try:
        cert = x509.load_pem_x509_certificate(cert_pem)
        key = serialization.load_pem_private_key(key_pem, password=None)
        ca = x509.load_pem_x509_certificate(ca_pem)
    except ValueError as error:
        return "unreadable: %s" % error
    if not _signed_by(cert, ca):
        return "not signed by the current CA"
    wrong = mismatch(cert, key, leaf)
    if wrong is None and _not_after(cert) - renew_before <= now:
        return EXPIRING
    return wrong
