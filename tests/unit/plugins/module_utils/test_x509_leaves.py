"""The leaf judge against certificates made here, one way of being wrong per case."""

import datetime
import ipaddress

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ansible_collections.miniapp.mesh.plugins.module_utils import x509_leaves

NOW = datetime.datetime(2026, 12, 3, tzinfo=datetime.UTC)
MONTH = datetime.timedelta(days=30)
SPEC = {"common_name": "etcd1-server", "sans": ["DNS:etcd1", "IP:10.0.0.1"], "usage": ["serverAuth", "clientAuth"]}


def _key():
    return ec.generate_private_key(ec.SECP256R1())


def _pem(thing):
    if isinstance(thing, x509.Certificate):
        return thing.public_bytes(serialization.Encoding.PEM)
    return thing.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _ca():
    key = _key()
    builder = x509.CertificateBuilder(
        subject_name=_name("miniapp-etcd-ca"),
        issuer_name=_name("miniapp-etcd-ca"),
        public_key=key.public_key(),
        serial_number=x509.random_serial_number(),
        not_valid_before=NOW - MONTH,
        not_valid_after=NOW + 100 * MONTH,
    )
    return builder.sign(key, hashes.SHA256()), key


def _leaf(ca, key, cn="etcd1-server", sans=("etcd1", "10.0.0.1"), usage=("SERVER_AUTH", "CLIENT_AUTH"), days=365):
    ca_cert, ca_key = ca
    names = [x509.DNSName(s) if s[0].isalpha() else x509.IPAddress(ipaddress.ip_address(s)) for s in sans]
    builder = (
        x509.CertificateBuilder(
            subject_name=_name(cn),
            issuer_name=ca_cert.subject,
            public_key=key.public_key(),
            serial_number=x509.random_serial_number(),
            not_valid_before=NOW - MONTH,
            not_valid_after=NOW + datetime.timedelta(days=days),
        )
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([getattr(ExtendedKeyUsageOID, u) for u in usage]), critical=False)
    )
    return builder.sign(ca_key, hashes.SHA256())


@pytest.fixture(scope="module")
def ca():
    return _ca()


@pytest.fixture(scope="module")
def key():
    return _key()


def _judge(ca, cert, key, spec=SPEC):
    cert_pem = None if cert is None else _pem(cert)
    key_pem = None if key is None else _pem(key)
    return x509_leaves.judge(_pem(ca[0]), spec, cert_pem, key_pem, NOW, MONTH)


def test_a_leaf_issued_to_its_spec_is_current(ca, key):
    assert _judge(ca, _leaf(ca, key), key) is None


def test_ip_names_compare_by_address_not_spelling(ca, key):
    spec = dict(SPEC, sans=["DNS:etcd1", "IP:0:0:0:0:0:0:0:1"])
    assert _judge(ca, _leaf(ca, key, sans=("etcd1", "::1")), key, spec) is None


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"cn": "etcd2-server"}, "common name is not etcd1-server"),
        ({"sans": ("etcd1", "10.0.0.2")}, "subject alternative names are not DNS:etcd1, IP:10.0.0.1"),
        ({"usage": ("CLIENT_AUTH",)}, "extended key usage is not serverAuth, clientAuth"),
        ({"days": 10}, x509_leaves.EXPIRING),
        ({"days": -1}, x509_leaves.EXPIRING),
    ],
    ids=["common-name", "address-moved", "usage", "expiring", "expired"],
)
def test_a_leaf_that_differs_from_its_spec_is_stale(ca, key, change, reason):
    assert _judge(ca, _leaf(ca, key, **change), key) == reason


def test_a_leaf_from_another_ca_is_stale(ca, key):
    assert _judge(ca, _leaf(_ca(), key), key) == "not signed by the current CA"


def test_a_leaf_beside_another_key_is_stale(ca, key):
    assert _judge(ca, _leaf(ca, key), _key()) == "the certificate is not for the private key beside it"


def test_missing_files_are_named(ca, key):
    assert _judge(ca, None, key) == "no certificate yet"
    assert _judge(ca, _leaf(ca, key), None) == "no private key yet"


def test_a_garbled_certificate_is_stale_not_a_crash(ca, key):
    reason = x509_leaves.judge(_pem(ca[0]), SPEC, b"-----BEGIN CERTIFICATE-----\nAAAA\n", _pem(key), NOW, MONTH)
    assert reason.startswith("unreadable: ")
