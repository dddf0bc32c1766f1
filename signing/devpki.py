"""Development PKI: a test root CA, an issuing CA, signers with Vietnamese names, a TSA, CRLs and a
SoftHSM2 token holding the keys, so that the demo and the tests sign for real.

Everything lands in one directory; ``pki.json`` there describes it (:class:`DevPki`). The SoftHSM2
configuration and token directory live inside it too (``softhsm2.conf``, ``tokens/``): the system
token store is never touched. Keys are unencrypted PEM files beside the token on purpose: this is
test material, never to be used for real documents.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import asdict, dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from signing.devtokens import SOFTHSM_LIB as SOFTHSM_LIB
from signing.devtokens import create_tokens
from signing.errors import SigningError

DEV_TOKEN = "LienThong Dev"
"""Label of the token holding every dev key."""
LOCK_TOKEN = "LienThong Lock"
"""A second token, with the clerk's key only, that tests may lock by wrong PINs."""
DEV_PIN = "123456"
DEV_SO_PIN = "12345678"
DEV_P12_PASSWORD = "lienthong"
DEFAULT_PORT = 8790


@dataclass(frozen=True, slots=True)
class Identity:
    """One certificate holder of the dev PKI."""

    name: str
    """Short name: file names and the key label on the token."""
    common_name: str
    title: str | None = None
    """Position (chức vụ), put in the certificate's ``title`` attribute."""
    subject_id: str | None = None
    """Identity in the subject's ``serialNumber``, as Vietnamese CAs write it: ``CCCD:`` and the
    12-digit citizen id for a person, ``MST:`` and the tax code for an organisation (the seal)."""
    expired: bool = False
    revoked: bool = False


IDENTITIES: tuple[Identity, ...] = (
    Identity("leader", "Nguyễn Văn An", title="Chủ tịch", subject_id="CCCD:001085000101"),
    Identity("agency", "UBND tỉnh Demo", subject_id="MST:0100000001"),
    Identity("clerk", "Trần Thị Bình", title="Văn thư", subject_id="CCCD:001190000102"),
    Identity("director", "Phạm Minh Đức", title="Giám đốc", subject_id="CCCD:001082000105"),
    Identity("secretary", "Vũ Thị Hạnh", title="Thư ký kỳ họp", subject_id="CCCD:001188000106"),
    Identity(
        "expired", "Lê Văn Cũ", title="Phó Chủ tịch", subject_id="CCCD:001070000103", expired=True
    ),
    Identity(
        "revoked",
        "Phạm Thị Thu",
        title="Chánh Văn phòng",
        subject_id="CCCD:001180000104",
        revoked=True,
    ),
)


DEMO_HOLDERS: dict[str, str] = {
    "leader": "chutich.tinh",
    "clerk": "vanthu.tinh",
    "director": "giamdoc.snv",
    "secretary": "thuky.hdnd",
}
"""Whose certificate is whose among the demo accounts (:mod:`server.demo`): register them with
``lienthong user certificate LOGIN <dir>/certs/<name>.pem`` so that each signs with their own."""


@dataclass(frozen=True, slots=True)
class DevPki:
    """What ``pki.json`` says about a dev PKI directory."""

    dir: Path
    port: int
    token_label: str = DEV_TOKEN
    lock_token_label: str = LOCK_TOKEN
    user_pin: str = DEV_PIN
    so_pin: str = DEV_SO_PIN
    p12_password: str = DEV_P12_PASSWORD
    signers: tuple[str, ...] = field(default_factory=lambda: tuple(i.name for i in IDENTITIES))
    revoked_serials: tuple[int, ...] = ()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def tsa_url(self) -> str:
        return f"{self.base_url}/tsa"

    @property
    def softhsm_conf(self) -> Path:
        return self.dir / "softhsm2.conf"

    @property
    def root_pem(self) -> Path:
        return self.dir / "root.pem"

    @property
    def chain_pems(self) -> tuple[Path, ...]:
        """Issuing CA first, then the root."""
        return (self.dir / "intermediate.pem", self.dir / "root.pem")

    def cert(self, name: str) -> Path:
        return self.dir / "certs" / f"{name}.pem"

    def key(self, name: str) -> Path:
        return self.dir / "keys" / f"{name}.key.pem"

    def p12(self, name: str) -> Path:
        return self.dir / "p12" / f"{name}.p12"

    @classmethod
    def load(cls, directory: Path) -> DevPki:
        try:
            raw = json.loads((directory / "pki.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SigningError(
                f"{directory} is not a dev PKI directory: {exc}",
                detail_vi=f"Thư mục {directory} không phải PKI thử nghiệm.",
            ) from None
        return cls(
            dir=directory,
            port=int(raw["port"]),
            token_label=raw["token_label"],
            lock_token_label=raw["lock_token_label"],
            user_pin=raw["user_pin"],
            so_pin=raw["so_pin"],
            p12_password=raw["p12_password"],
            signers=tuple(raw["signers"]),
            revoked_serials=tuple(raw["revoked_serials"]),
        )

    def save(self) -> None:
        raw = asdict(self)
        raw["dir"] = str(self.dir)
        (self.dir / "pki.json").write_text(json.dumps(raw, indent=2), encoding="utf-8")


def _name(common_name: str, title: str | None = None, subject_id: str | None = None) -> x509.Name:
    attrs = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
        x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "Tỉnh Demo"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "UBND tỉnh Demo"),
    ]
    if title:
        attrs.append(x509.NameAttribute(NameOID.TITLE, title))
    if subject_id:
        attrs.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, subject_id))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attrs)


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _builder(
    subject: x509.Name,
    issuer: x509.Name,
    key: rsa.RSAPrivateKey,
    issuer_key: rsa.RSAPrivateKey,
    not_before: dt.datetime,
    not_after: dt.datetime,
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    )


def _revocation_pointers(
    base_url: str, crl_name: str, ocsp: bool = True
) -> list[x509.ExtensionType]:
    pointers: list[x509.ExtensionType] = [
        x509.CRLDistributionPoints(
            [
                x509.DistributionPoint(
                    full_name=[x509.UniformResourceIdentifier(f"{base_url}/crl/{crl_name}.crl")],
                    relative_name=None,
                    reasons=None,
                    crl_issuer=None,
                )
            ]
        )
    ]
    if ocsp:
        pointers.append(
            x509.AuthorityInformationAccess(
                [
                    x509.AccessDescription(
                        x509.oid.AuthorityInformationAccessOID.OCSP,
                        x509.UniformResourceIdentifier(f"{base_url}/ocsp"),
                    )
                ]
            )
        )
    return pointers


def _ca_extensions(builder: x509.CertificateBuilder, path_length: int) -> x509.CertificateBuilder:
    return builder.add_extension(
        x509.BasicConstraints(ca=True, path_length=path_length), critical=True
    ).add_extension(
        x509.KeyUsage(
            digital_signature=True,
            content_commitment=False,
            key_encipherment=False,
            data_encipherment=False,
            key_agreement=False,
            key_cert_sign=True,
            crl_sign=True,
            encipher_only=False,
            decipher_only=False,
        ),
        critical=True,
    )


def _leaf_usage(tsa: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=not tsa,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


def _crl(
    issuer: x509.Certificate,
    issuer_key: rsa.RSAPrivateKey,
    revoked: list[int],
    now: dt.datetime,
) -> bytes:
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.subject)
        .last_update(now - dt.timedelta(minutes=5))
        .next_update(now + dt.timedelta(days=30))
        .add_extension(x509.CRLNumber(1), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    )
    for serial in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(serial)
            .revocation_date(now - dt.timedelta(days=1))
            .add_extension(x509.CRLReason(x509.ReasonFlags.key_compromise), critical=False)
            .build()
        )
    return builder.sign(issuer_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def create_dev_pki(out: Path, port: int = DEFAULT_PORT, *, with_token: bool = True) -> DevPki:
    """Create the whole dev PKI in ``out`` (created if needed) and return its description.

    ``port`` is where ``lienthong dev-pki serve`` will answer: the OCSP and CRL addresses are
    written into the certificates, so they cannot move afterwards.
    """
    out.mkdir(parents=True, exist_ok=True)
    for sub in ("certs", "keys", "p12", "crl"):
        (out / sub).mkdir(exist_ok=True)
    base_url = f"http://127.0.0.1:{port}"
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    (root, root_key), (inter, inter_key) = _make_cas(out, base_url, now)
    revoked: list[int] = []
    names: list[str] = []
    for ident in (*IDENTITIES, Identity("tsa", "Liên Thông Dev TSA")):
        cert = _make_leaf(out, base_url, now, ident, (inter, inter_key), root)
        if ident.revoked:
            revoked.append(cert.serial_number)
        names.append(ident.name)
    (out / "crl" / "root.crl").write_bytes(_crl(root, root_key, [], now))
    (out / "crl" / "intermediate.crl").write_bytes(_crl(inter, inter_key, revoked, now))
    pki = DevPki(dir=out.resolve(), port=port, revoked_serials=tuple(revoked))
    pki.save()
    _write_demo_images(out)
    if with_token:
        create_tokens(pki, [name for name in names if name != "tsa"])
    return pki


_Issuer = tuple[x509.Certificate, rsa.RSAPrivateKey]


def _make_cas(out: Path, base_url: str, now: dt.datetime) -> tuple[_Issuer, _Issuer]:
    """The root CA and the issuing CA under it, written to ``out`` with their keys."""
    far = now + dt.timedelta(days=3650)
    root_key = _key()
    root_name = _name("Liên Thông Dev Root CA")
    root = _ca_extensions(
        _builder(root_name, root_name, root_key, root_key, now - dt.timedelta(days=30), far), 1
    ).sign(root_key, hashes.SHA256())
    inter_key = _key()
    inter_builder = _ca_extensions(
        _builder(
            _name("Liên Thông Dev Issuing CA"),
            root_name,
            inter_key,
            root_key,
            now - dt.timedelta(days=30),
            far - dt.timedelta(days=1),
        ),
        0,
    )
    # the issuing CA is checked against the root's CRL only, as national roots publish them
    for ext in _revocation_pointers(base_url, "root", ocsp=False):
        inter_builder = inter_builder.add_extension(ext, critical=False)
    inter = inter_builder.sign(root_key, hashes.SHA256())
    (out / "root.pem").write_bytes(_pem(root))
    (out / "keys" / "root.key.pem").write_bytes(_key_pem(root_key))
    (out / "intermediate.pem").write_bytes(_pem(inter))
    (out / "keys" / "intermediate.key.pem").write_bytes(_key_pem(inter_key))
    return (root, root_key), (inter, inter_key)


def _make_leaf(
    out: Path,
    base_url: str,
    now: dt.datetime,
    ident: Identity,
    issuer: _Issuer,
    root: x509.Certificate,
) -> x509.Certificate:
    """One holder's certificate, key and PKCS#12 file, issued by the issuing CA."""
    inter, inter_key = issuer
    key = _key()
    tsa = ident.name == "tsa"
    if ident.expired:
        start, end = now - dt.timedelta(days=400), now - dt.timedelta(days=2)
    else:
        start, end = now - dt.timedelta(days=1), now + dt.timedelta(days=730)
    builder = _builder(
        _name(ident.common_name, ident.title, ident.subject_id),
        inter.subject,
        key,
        inter_key,
        start,
        end,
    )
    builder = builder.add_extension(
        x509.BasicConstraints(ca=False, path_length=None), critical=True
    ).add_extension(_leaf_usage(tsa), critical=True)
    if tsa:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True
        )
    for ext in _revocation_pointers(base_url, "intermediate"):
        builder = builder.add_extension(ext, critical=False)
    cert = builder.sign(inter_key, hashes.SHA256())
    (out / "certs" / f"{ident.name}.pem").write_bytes(_pem(cert))
    (out / "keys" / f"{ident.name}.key.pem").write_bytes(_key_pem(key))
    (out / "p12" / f"{ident.name}.p12").write_bytes(
        pkcs12.serialize_key_and_certificates(
            ident.name.encode(),
            key,
            cert,
            [inter, root],
            serialization.BestAvailableEncryption(DEV_P12_PASSWORD.encode()),
        )
    )
    return cert


def issue_signer(
    pki: DevPki,
    common_name: str,
    not_after: dt.datetime,
    out: Path,
    title: str | None = None,
    subject_id: str | None = None,
) -> Path:
    """Issue one more signer certificate from the dev issuing CA, valid until ``not_after``, and
    write it with a new key as a PKCS#12 file (password ``pki.p12_password``) at ``out``.

    For tests of certificates that expire after signing (validation as of the timestamp): the
    OCSP/CRL pointers are the dev responder's, which answers "good" for any serial not revoked.
    """
    inter = x509.load_pem_x509_certificate((pki.dir / "intermediate.pem").read_bytes())
    root = x509.load_pem_x509_certificate(pki.root_pem.read_bytes())
    inter_key = serialization.load_pem_private_key(pki.key("intermediate").read_bytes(), None)
    assert isinstance(inter_key, rsa.RSAPrivateKey)
    key = _key()
    start = min(not_after, dt.datetime.now(dt.UTC)) - dt.timedelta(days=1)
    subject = _name(common_name, title, subject_id or f"CCCD:{secrets.randbelow(10**12):012d}")
    builder = _builder(subject, inter.subject, key, inter_key, start, not_after)
    builder = builder.add_extension(
        x509.BasicConstraints(ca=False, path_length=None), critical=True
    ).add_extension(_leaf_usage(False), critical=True)
    for ext in _revocation_pointers(pki.base_url, "intermediate"):
        builder = builder.add_extension(ext, critical=False)
    cert = builder.sign(inter_key, hashes.SHA256())
    out.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"signer",
            key,
            cert,
            [inter, root],
            serialization.BestAvailableEncryption(pki.p12_password.encode()),
        )
    )
    return out


def _write_demo_images(out: Path) -> None:
    from signing.assets import write_demo_images

    write_demo_images(out / "images")
