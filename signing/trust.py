"""The server's trust roots: PEM files in one directory (``Config.trust_dir``), named by the SHA-256
fingerprint of the certificate (``<hex>.pem``).

Files rather than database rows because the roots are few, change rarely, must be readable by the
command line before the server runs, and an administrator can audit them with ``openssl x509``.
Only these roots are trusted: the operating system's store is never consulted.
"""

from __future__ import annotations

import builtins
import hashlib
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import pem
from asn1crypto import x509 as asn1_x509

from server.files import write_atomic
from signing.errors import TrustStoreError


@dataclass(frozen=True, slots=True)
class TrustRoot:
    """One pinned root certificate."""

    fingerprint: str
    """SHA-256 of the DER certificate, lowercase hex."""
    subject: str
    not_after: str
    path: Path


def fingerprint(cert: asn1_x509.Certificate) -> str:
    return hashlib.sha256(cert.dump()).hexdigest()


def load_certs(data: bytes, source: str = "input") -> list[asn1_x509.Certificate]:
    """Every certificate in PEM (one or more blocks) or DER ``data``."""
    try:
        if pem.detect(data):
            return [asn1_x509.Certificate.load(der) for _t, _h, der in pem.unarmor(data, True)]
        cert = asn1_x509.Certificate.load(data)
        _ = cert.subject.native
        return [cert]
    except (ValueError, TypeError) as exc:
        raise TrustStoreError(
            f"{source} is not a certificate: {exc}",
            detail_vi=f"{source} không phải là chứng thư số hợp lệ.",
        ) from None


def load_cert_files(paths: list[Path]) -> list[asn1_x509.Certificate]:
    out: list[asn1_x509.Certificate] = []
    for path in paths:
        try:
            out.extend(load_certs(path.read_bytes(), str(path)))
        except OSError as exc:
            raise TrustStoreError(
                f"cannot read {path}: {exc.strerror}", detail_vi=f"Không đọc được tệp {path}."
            ) from None
    return out


class TrustStore:
    """The trust roots in one directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _describe(self, path: Path, cert: asn1_x509.Certificate) -> TrustRoot:
        return TrustRoot(
            fingerprint=fingerprint(cert),
            subject=cert.subject.human_friendly,
            not_after=cert["tbs_certificate"]["validity"]["not_after"].native.isoformat(),
            path=path,
        )

    def list(self) -> builtins.list[TrustRoot]:
        if not self.directory.is_dir():
            return []
        roots = []
        for path in sorted(self.directory.glob("*.pem")):
            for cert in load_cert_files([path]):
                roots.append(self._describe(path, cert))
        return roots

    def certificates(self) -> builtins.list[asn1_x509.Certificate]:
        if not self.directory.is_dir():
            return []
        return load_cert_files(sorted(self.directory.glob("*.pem")))

    def add(self, data: bytes, source: str = "input") -> builtins.list[TrustRoot]:
        """Add every certificate in ``data``; CA certificates only. Idempotent."""
        certs = load_certs(data, source)
        added = []
        self.directory.mkdir(parents=True, exist_ok=True)
        for cert in certs:
            if not cert.ca:
                raise TrustStoreError(
                    f"{cert.subject.human_friendly} is not a CA certificate",
                    detail_vi="Chỉ thêm được chứng thư của tổ chức chứng thực (CA) làm gốc tin cậy.",
                )
            path = self.directory / f"{fingerprint(cert)}.pem"
            body = pem.armor("CERTIFICATE", cert.dump())
            write_atomic(path, body)
            added.append(self._describe(path, cert))
        return added

    def remove(self, fp: str) -> TrustRoot:
        """Remove the root with this fingerprint (a unique prefix of 8+ hex digits is enough)."""
        fp = fp.lower().replace(":", "")
        matches = [r for r in self.list() if r.fingerprint.startswith(fp)] if len(fp) >= 8 else []
        if len(matches) != 1:
            raise TrustStoreError(
                f"no single trust root with fingerprint {fp}",
                detail_vi=f"Không tìm thấy (duy nhất) gốc tin cậy có dấu vân tay {fp}.",
            )
        matches[0].path.unlink()
        return matches[0]
