"""The agency's digital signature (chữ ký số của cơ quan) on electronic results.

A result issued electronically is valid like paper when the agency signs it (Law on
Electronic Transactions 2023; Decree 30/2020 on documents). The signature is a real PDF
signature (PAdES baseline, CMS inside the PDF) made with pyHanko, so any PDF reader and
`pyhanko sign validate` check it; nothing here builds CMS or touches PDF bytes by hand.

Where the key comes from (app config, or `MOTCUA_*` environment, read by `create_app`):

- `SIGNING_KEY` + `SIGNING_CERT`: PEM files (key, certificate); `SIGNING_KEY_PASSPHRASE`
  when the key is encrypted;
- or `SIGNING_PKCS12`: a `.p12` file holding both, `SIGNING_PKCS12_PASSPHRASE` its passphrase;
- `SIGNING_CHAIN`: optional PEM file(s) of the issuing CA(s), embedded with the signature.

`load_signer` checks everything once at start — file missing or unreadable, wrong
passphrase, a key that is not the certificate's, a certificate expired or not yet valid — and
raises `SigningConfigError` naming the setting, so a bad key stops `create_app` (and so
`motcua serve`) instead of becoming a 500 when staff first sign. Without any signing setting
the portal runs and results are attached unsigned.

`dev_certificate` makes a test CA and an agency certificate with the `cryptography` library
for development and tests (`motcua signing dev-cert`): never for a real deployment.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

import click

#: Config keys (also `MOTCUA_<key>` in the environment).
T = TypeVar("T")
KEYS = ("SIGNING_KEY", "SIGNING_CERT", "SIGNING_KEY_PASSPHRASE", "SIGNING_PKCS12", "SIGNING_PKCS12_PASSPHRASE", "SIGNING_CHAIN")
FIELD_NAME = "MotcuaAgencySignature"


class SigningConfigError(ValueError):
    """The signing settings cannot give a usable key; the message names the setting."""


class SigningFailed(RuntimeError):
    """A PDF could not be signed (not a PDF pyHanko can update, a certificate expired since start)."""


@dataclass
class AgencySigner:
    """The loaded key and certificate, checked at start; `sign` adds a signature to a PDF."""

    signer: Any  # pyhanko.sign.signers.SimpleSigner
    subject: str
    not_after: datetime

    def sign(self, pdf: bytes, *, reason: str, location: str = "", at: datetime | None = None) -> bytes:
        """`pdf` with the agency's signature added as an incremental update (the signed bytes
        are the original ones plus the signature: what staff attached is kept as it was)."""
        from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
        from pyhanko.pdf_utils.misc import PdfError
        from pyhanko.sign import signers

        now = at or datetime.now(timezone.utc)
        if now >= self.not_after:
            raise SigningFailed(f"the signing certificate expired on {self.not_after:%Y-%m-%d}")
        def sign_now() -> bytes:
            writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
            meta = signers.PdfSignatureMetadata(field_name=FIELD_NAME, reason=reason, location=location or None,
                                                name=self.subject)
            return signers.sign_pdf(writer, meta, signer=self.signer).getvalue()

        try:
            return _outside_event_loop(sign_now)
        except (PdfError, ValueError, KeyError, TypeError) as exc:
            raise SigningFailed(f"the PDF could not be signed: {exc}") from exc
        except Exception as exc:  # anything else of pyHanko's: a clear refusal, never a 500
            logging.getLogger(__name__).exception("signing a result failed")
            raise SigningFailed(f"the PDF could not be signed: {exc}") from exc


def _outside_event_loop(work: Callable[[], T]) -> T:
    """`work()` here, or in a short-lived thread when this thread runs an asyncio loop:
    pyHanko's synchronous API calls `asyncio.run`, which refuses to run inside a loop (a
    server or a test harness may run one in the request's thread)."""
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return work()
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1, thread_name_prefix="motcua-signing") as pool:
        return pool.submit(work).result()


def _read(config: Mapping[str, Any], key: str) -> bytes:
    path = Path(str(config[key]))
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise SigningConfigError(f"{key} (MOTCUA_{key}): {path} does not exist") from None
    except OSError as exc:
        raise SigningConfigError(f"{key} (MOTCUA_{key}): {path} cannot be read ({exc.strerror})") from None


def _passphrase(config: Mapping[str, Any], key: str) -> bytes | None:
    value = config.get(key)
    if value in (None, ""):
        return None
    return value if isinstance(value, bytes) else str(value).encode()


def load_signer(config: Mapping[str, Any], now: datetime | None = None) -> AgencySigner | None:
    """The agency's signer from the settings, None when signing is not configured.

    SigningConfigError for anything that would make signing fail later. The signing
    libraries are imported only when signing is configured: pyHanko alone is ~0.5-1 s of
    every start otherwise (docs/performance.md)."""
    pem, p12 = config.get("SIGNING_KEY") or config.get("SIGNING_CERT"), config.get("SIGNING_PKCS12")
    if not pem and not p12:
        return None

    from asn1crypto import keys as asn1_keys, x509 as asn1_x509
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12
    from pyhanko.sign import signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    if pem and p12:
        raise SigningConfigError("set either SIGNING_KEY + SIGNING_CERT or SIGNING_PKCS12, not both")
    if p12:
        try:
            key, cert, extra = pkcs12.load_key_and_certificates(_read(config, "SIGNING_PKCS12"),
                                                                _passphrase(config, "SIGNING_PKCS12_PASSPHRASE"))
        except ValueError:
            raise SigningConfigError("SIGNING_PKCS12: not a PKCS#12 file, or SIGNING_PKCS12_PASSPHRASE "
                                     "(MOTCUA_SIGNING_PKCS12_PASSPHRASE) is wrong") from None
        if key is None or cert is None:
            raise SigningConfigError("SIGNING_PKCS12: the file holds no private key and certificate")
        chain = list(extra or [])
    else:
        for needed in ("SIGNING_KEY", "SIGNING_CERT"):
            if not config.get(needed):
                raise SigningConfigError(f"{needed} (MOTCUA_{needed}) is not set: SIGNING_KEY and SIGNING_CERT go together")
        try:
            key = serialization.load_pem_private_key(_read(config, "SIGNING_KEY"), _passphrase(config, "SIGNING_KEY_PASSPHRASE"))
        except (ValueError, TypeError) as exc:
            raise SigningConfigError(f"SIGNING_KEY: not a PEM private key, or SIGNING_KEY_PASSPHRASE is wrong or missing ({exc})") from None
        try:
            cert = x509.load_pem_x509_certificate(_read(config, "SIGNING_CERT"))
        except ValueError:
            raise SigningConfigError("SIGNING_CERT: not a PEM certificate") from None
        chain = []
    for path in str(config.get("SIGNING_CHAIN") or "").split(","):
        if path.strip():
            try:
                chain += x509.load_pem_x509_certificates(_read({"SIGNING_CHAIN": path.strip()}, "SIGNING_CHAIN"))
            except ValueError:
                raise SigningConfigError(f"SIGNING_CHAIN: {path.strip()} holds no PEM certificate") from None
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(serialization.Encoding.DER, public) != cert.public_key().public_bytes(serialization.Encoding.DER, public):
        raise SigningConfigError("SIGNING_KEY is not the key of SIGNING_CERT (the certificate names another public key)")
    moment = now or datetime.now(timezone.utc)
    if moment >= cert.not_valid_after_utc:
        raise SigningConfigError(f"the signing certificate expired on {cert.not_valid_after_utc:%Y-%m-%d}: renew it before serving")
    if moment < cert.not_valid_before_utc:
        raise SigningConfigError(f"the signing certificate is valid only from {cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC")
    der = serialization.Encoding.DER
    signer = signers.SimpleSigner(
        signing_cert=asn1_x509.Certificate.load(cert.public_bytes(der)),
        signing_key=asn1_keys.PrivateKeyInfo.load(key.private_bytes(der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())),
        cert_registry=SimpleCertificateStore.from_certs([asn1_x509.Certificate.load(c.public_bytes(der)) for c in chain]),
    )
    subject = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return AgencySigner(signer, str(subject[0].value) if subject else cert.subject.rfc4514_string(), cert.not_valid_after_utc)


def current_signer() -> AgencySigner | None:
    """This app's signer (loaded by `create_app`), None when signing is not configured."""
    from flask import current_app

    return current_app.extensions.get("motcua.signer")


# --- development certificates ---------------------------------------------------------------


def dev_certificate(folder: Path, agency: str = "Ủy ban nhân dân xã Thử Nghiệm", days: int = 365,
                    passphrase: str = "motcua-dev") -> dict[str, Path]:
    """A test CA and an agency signing certificate it issued, written to `folder`:
    `ca.pem`, `signing-key.pem`, `signing-cert.pem` and `signing.p12` (passphrase
    `passphrase`). For development and tests only: the CA is self-made, so readers trust the
    signature only when told to trust `ca.pem`."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.now(timezone.utc) - timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Motcua development"),
                         x509.NameAttribute(NameOID.COMMON_NAME, "Motcua test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(now + timedelta(days=days + 30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                                       encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, agency),
                         x509.NameAttribute(NameOID.COMMON_NAME, agency)])
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(now + timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    paths = {name: folder / name for name in ("ca.pem", "signing-key.pem", "signing-cert.pem", "signing.p12")}
    paths["ca.pem"].write_bytes(ca.public_bytes(pem))
    paths["signing-cert.pem"].write_bytes(cert.public_bytes(pem))
    paths["signing-key.pem"].touch(mode=0o600)
    paths["signing-key.pem"].write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    paths["signing.p12"].touch(mode=0o600)
    paths["signing.p12"].write_bytes(pkcs12.serialize_key_and_certificates(
        b"motcua", key, cert, [ca], serialization.BestAvailableEncryption(passphrase.encode())))
    return paths


@click.group("signing")
def signing_group() -> None:
    """The agency's signing key for electronic results."""


@signing_group.command("dev-cert")
@click.option("--out", "out", default="data/signing", show_default=True, type=click.Path(file_okay=False),
              help="Folder to write ca.pem, signing-key.pem, signing-cert.pem, signing.p12 into.")
@click.option("--agency", default="Ủy ban nhân dân xã Thử Nghiệm", show_default=True, help="The certificate's holder.")
@click.option("--days", default=365, show_default=True, type=click.IntRange(min=1), help="How long the certificate is valid.")
@click.option("--passphrase", default="motcua-dev", show_default=True, help="The PKCS#12 file's passphrase.")
def dev_cert_command(out: str, agency: str, days: int, passphrase: str) -> None:
    """Make a TEST CA and an agency certificate for development (never for a deployment)."""
    paths = dev_certificate(Path(out), agency, days, passphrase)
    click.echo(f"Test CA: {paths['ca.pem']} (trust it in a PDF reader to see the signature as valid)")
    click.echo("Serve with:")
    click.echo(f"  MOTCUA_SIGNING_KEY={paths['signing-key.pem']} MOTCUA_SIGNING_CERT={paths['signing-cert.pem']} "
               f"MOTCUA_SIGNING_CHAIN={paths['ca.pem']}")
    click.echo(f"or MOTCUA_SIGNING_PKCS12={paths['signing.p12']} MOTCUA_SIGNING_PKCS12_PASSPHRASE=…")
