"""A throwaway certificate authority and server certificates, made per test, for HTTPS servers on
127.0.0.1 that a client checks by name (SNI and the certificate) while connecting to an IP."""

from __future__ import annotations

import datetime
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass
class ThrowawayAuthority:
    ca_file: Path
    _key: ec.EllipticCurvePrivateKey
    _certificate: x509.Certificate
    _directory: Path

    @classmethod
    def create(cls, directory: Path) -> ThrowawayAuthority:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "medialib test CA")])
        certificate = (
            _builder(name, name, key.public_key())
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        ca_file = directory / "ca.pem"
        ca_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        return cls(ca_file, key, certificate, directory)

    def server_context(self, *names: str) -> tuple[ssl.SSLContext, list[str]]:
        """A server context with a certificate for ``names``, and the SNI names clients send."""
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
        certificate = (
            _builder(subject, self._certificate.subject, key.public_key())
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
            .sign(self._key, hashes.SHA256())
        )
        cert_file, key_file = self._directory / f"{names[0]}.pem", self._directory / f"{names[0]}.key"
        cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert_file, key_file)
        sent_names: list[str] = []
        context.sni_callback = lambda _sock, name, _context: sent_names.append(name)
        return context, sent_names


def _builder(subject: x509.Name, issuer: x509.Name, public_key) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
    )
