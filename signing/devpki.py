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
import os
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from signing.errors import SigningError

SOFTHSM_LIB = "/usr/lib/softhsm/libsofthsm2.so"
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
    expired: bool = False
    revoked: bool = False


IDENTITIES: tuple[Identity, ...] = (
    Identity("leader", "Nguyễn Văn An", title="Chủ tịch"),
    Identity("agency", "UBND tỉnh Demo"),
    Identity("clerk", "Trần Thị Bình", title="Văn thư"),
    Identity("expired", "Lê Văn Cũ", title="Phó Chủ tịch", expired=True),
    Identity("revoked", "Phạm Thị Thu", title="Chánh Văn phòng", revoked=True),
)


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


def _name(common_name: str, title: str | None = None) -> x509.Name:
    attrs = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
        x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "Tỉnh Demo"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "UBND tỉnh Demo"),
    ]
    if title:
        attrs.append(x509.NameAttribute(NameOID.TITLE, title))
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

    revoked: list[int] = []
    leaf_keys: dict[str, tuple[rsa.RSAPrivateKey, x509.Certificate]] = {}
    for ident in (*IDENTITIES, Identity("tsa", "Liên Thông Dev TSA")):
        key = _key()
        tsa = ident.name == "tsa"
        if ident.expired:
            start, end = now - dt.timedelta(days=400), now - dt.timedelta(days=2)
        else:
            start, end = now - dt.timedelta(days=1), now + dt.timedelta(days=730)
        builder = _builder(
            _name(ident.common_name, ident.title), inter.subject, key, inter_key, start, end
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
        if ident.revoked:
            revoked.append(cert.serial_number)
        leaf_keys[ident.name] = (key, cert)
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

    (out / "crl" / "root.crl").write_bytes(_crl(root, root_key, [], now))
    (out / "crl" / "intermediate.crl").write_bytes(_crl(inter, inter_key, revoked, now))
    pki = DevPki(dir=out.resolve(), port=port, revoked_serials=tuple(revoked))
    pki.save()
    _write_demo_images(out)
    if with_token:
        create_tokens(pki, {name: pair for name, pair in leaf_keys.items() if name != "tsa"})
    return pki


def issue_signer(
    pki: DevPki, common_name: str, not_after: dt.datetime, out: Path, title: str | None = None
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
    builder = _builder(_name(common_name, title), inter.subject, key, inter_key, start, not_after)
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


def softhsm_env(pki: DevPki) -> dict[str, str]:
    """The environment a process needs to see this PKI's tokens (and only them)."""
    env = dict(os.environ)
    env["SOFTHSM2_CONF"] = str(pki.softhsm_conf)
    return env


def create_tokens(pki: DevPki, keys: dict[str, tuple[rsa.RSAPrivateKey, x509.Certificate]]) -> None:
    """Initialise the SoftHSM2 tokens in ``pki.dir/tokens`` and import keys and certificates."""
    tokendir = pki.dir / "tokens"
    tokendir.mkdir(exist_ok=True)
    pki.softhsm_conf.write_text(
        f"directories.tokendir = {tokendir}\nobjectstore.backend = file\nlog.level = ERROR\n",
        encoding="utf-8",
    )
    env = softhsm_env(pki)

    def util(*args: str) -> None:
        done = subprocess.run(
            ["softhsm2-util", *args], env=env, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise SigningError(
                f"softhsm2-util {args[0]} failed: {done.stderr.strip() or done.stdout.strip()}",
                detail_vi="Không tạo được token SoftHSM2 thử nghiệm.",
            )

    for label in (pki.token_label, pki.lock_token_label):
        util(
            "--init-token",
            "--free",
            "--label",
            label,
            "--so-pin",
            pki.so_pin,
            "--pin",
            pki.user_pin,
        )
    for index, (name, (_key, _cert)) in enumerate(sorted(keys.items()), start=1):
        tokens = [pki.token_label] + ([pki.lock_token_label] if name == "clerk" else [])
        for token in tokens:
            util(
                "--import",
                str(pki.key(name)),
                "--token",
                token,
                "--label",
                name,
                "--id",
                f"{index:02x}",
                "--pin",
                pki.user_pin,
            )
    # softhsm2-util cannot import certificates; a short child process does it with python-pkcs11
    # so that this process never initialises the PKCS#11 library with this configuration.
    script = (
        "import sys, json, pkcs11\n"
        "from pkcs11 import Attribute, ObjectClass, CertificateType\n"
        "from cryptography import x509\n"
        "spec = json.loads(sys.argv[1])\n"
        "lib = pkcs11.lib(spec['lib'])\n"
        "for token_label, items in spec['tokens'].items():\n"
        "    tok = lib.get_token(token_label=token_label)\n"
        "    with tok.open(rw=True, user_pin=spec['pin']) as s:\n"
        "        for label, kid, path in items:\n"
        "            c = x509.load_pem_x509_certificate(open(path, 'rb').read())\n"
        "            from cryptography.hazmat.primitives.serialization import Encoding\n"
        "            s.create_object({\n"
        "                Attribute.CLASS: ObjectClass.CERTIFICATE,\n"
        "                Attribute.CERTIFICATE_TYPE: CertificateType.X_509,\n"
        "                Attribute.TOKEN: True, Attribute.LABEL: label,\n"
        "                Attribute.ID: bytes.fromhex(kid),\n"
        "                Attribute.SUBJECT: c.subject.public_bytes(),\n"
        "                Attribute.ISSUER: c.issuer.public_bytes(),\n"
        "                Attribute.SERIAL_NUMBER: c.serial_number.to_bytes(20, 'big').lstrip(b'\\0'),\n"
        "                Attribute.VALUE: c.public_bytes(Encoding.DER)})\n"
        "        for label, path in spec['ca']:\n"
        "            c = x509.load_pem_x509_certificate(open(path, 'rb').read())\n"
        "            s.create_object({\n"
        "                Attribute.CLASS: ObjectClass.CERTIFICATE,\n"
        "                Attribute.CERTIFICATE_TYPE: CertificateType.X_509,\n"
        "                Attribute.TOKEN: True, Attribute.LABEL: label,\n"
        "                Attribute.SUBJECT: c.subject.public_bytes(),\n"
        "                Attribute.VALUE: c.public_bytes(Encoding.DER)})\n"
    )
    spec: dict[str, object] = {
        "lib": SOFTHSM_LIB,
        "pin": pki.user_pin,
        "ca": [
            ["ca-intermediate", str(pki.dir / "intermediate.pem")],
            ["ca-root", str(pki.dir / "root.pem")],
        ],
        "tokens": {
            pki.token_label: [
                [name, f"{i:02x}", str(pki.cert(name))]
                for i, name in enumerate(sorted(keys), start=1)
            ],
            pki.lock_token_label: [
                [name, f"{i:02x}", str(pki.cert(name))]
                for i, name in enumerate(sorted(keys), start=1)
                if name == "clerk"
            ],
        },
    }
    import sys

    done = subprocess.run(
        [sys.executable, "-c", script, json.dumps(spec)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SigningError(
            f"importing certificates into SoftHSM2 failed: {done.stderr.strip()[-500:]}",
            detail_vi="Không nạp được chứng thư số vào token SoftHSM2 thử nghiệm.",
        )
