"""The SoftHSM2 tokens of the development PKI (:mod:`signing.devpki`): initialised in the PKI's own
directory (``softhsm2.conf``, ``tokens/``: never the system's token store) and filled with the dev
keys and certificates, so that the demo and the tests sign with a real PKCS#11 token."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Protocol

from signing.errors import SigningError

SOFTHSM_LIB = "/usr/lib/softhsm/libsofthsm2.so"


class TokenHome(Protocol):
    """What the tokens need to know of a dev PKI (a :class:`signing.devpki.DevPki`)."""

    @property
    def dir(self) -> Path: ...
    @property
    def token_label(self) -> str: ...
    @property
    def lock_token_label(self) -> str: ...
    @property
    def user_pin(self) -> str: ...
    @property
    def so_pin(self) -> str: ...
    @property
    def softhsm_conf(self) -> Path: ...
    def key(self, name: str) -> Path: ...
    def cert(self, name: str) -> Path: ...


def softhsm_env(pki: TokenHome) -> dict[str, str]:
    """The environment a process needs to see this PKI's tokens (and only them)."""
    env = dict(os.environ)
    env["SOFTHSM2_CONF"] = str(pki.softhsm_conf)
    return env


def create_tokens(pki: TokenHome, names: list[str]) -> None:
    """Initialise the SoftHSM2 tokens in ``pki.dir/tokens`` and import the keys and certificates
    of ``names``; the clerk's key goes into the lock token too (tests lock it by wrong PINs)."""
    tokendir = pki.dir / "tokens"
    tokendir.mkdir(exist_ok=True)
    pki.softhsm_conf.write_text(
        f"directories.tokendir = {tokendir}\nobjectstore.backend = file\nlog.level = ERROR\n",
        encoding="utf-8",
    )
    env = softhsm_env(pki)
    pin = pki.user_pin
    for label in (pki.token_label, pki.lock_token_label):
        _util(env, "--init-token", "--free", "--label", label, "--so-pin", pki.so_pin, "--pin", pin)
    names = sorted(names)
    for index, name in enumerate(names, start=1):
        for token in _tokens_of(pki, name):
            key, key_id = str(pki.key(name)), f"{index:02x}"
            _util(
                env,
                "--import",
                key,
                "--token",
                token,
                "--label",
                name,
                "--id",
                key_id,
                "--pin",
                pin,
            )
    _import_certificates(pki, names, env)


def _tokens_of(pki: TokenHome, name: str) -> list[str]:
    return [pki.token_label] + ([pki.lock_token_label] if name == "clerk" else [])


def _util(env: dict[str, str], *args: str) -> None:
    """Run ``softhsm2-util`` (the dev PINs on its command line: test material only)."""
    done = subprocess.run(
        ["softhsm2-util", *args], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SigningError(
            f"softhsm2-util {args[0]} failed: {done.stderr.strip() or done.stdout.strip()}",
            detail_vi="Không tạo được token SoftHSM2 thử nghiệm.",
        )


_IMPORT_CERTIFICATES = (
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
"""softhsm2-util cannot import certificates; a short child process does it with python-pkcs11, so
that the calling process never initialises the PKCS#11 library with this configuration."""


def _import_certificates(pki: TokenHome, names: list[str], env: dict[str, str]) -> None:
    """Each key's certificate (same CKA_ID as the key) and the CA certificates onto the tokens."""
    spec: dict[str, object] = {
        "lib": SOFTHSM_LIB,
        "pin": pki.user_pin,
        "ca": [
            ["ca-intermediate", str(pki.dir / "intermediate.pem")],
            ["ca-root", str(pki.dir / "root.pem")],
        ],
        "tokens": {
            token: [
                [name, f"{i:02x}", str(pki.cert(name))]
                for i, name in enumerate(names, start=1)
                if token in _tokens_of(pki, name)
            ]
            for token in (pki.token_label, pki.lock_token_label)
        },
    }
    _run_import(spec, env)


def create_personal_tokens(pki: TokenHome, home: Path, labels: dict[str, str]) -> Path:
    """One token per holder (``labels``: key name → token label), each with that holder's key,
    certificate and the CA certificates only, in a SoftHSM2 store of its own under ``home`` (the
    demo signing agent's, apart from the server's token with the seal); returns its config."""
    tokendir = home / "tokens"
    tokendir.mkdir(parents=True, exist_ok=True)
    conf = home / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {tokendir}\nobjectstore.backend = file\nlog.level = ERROR\n",
        encoding="utf-8",
    )
    env = dict(os.environ, SOFTHSM2_CONF=str(conf))
    pin = pki.user_pin
    for name, label in labels.items():
        _util(env, "--init-token", "--free", "--label", label, "--so-pin", pki.so_pin, "--pin", pin)
        key = str(pki.key(name))
        _util(env, "--import", key, "--token", label, "--label", name, "--id", "01", "--pin", pin)
    spec: dict[str, object] = {
        "lib": SOFTHSM_LIB,
        "pin": pin,
        "ca": [
            ["ca-intermediate", str(pki.dir / "intermediate.pem")],
            ["ca-root", str(pki.dir / "root.pem")],
        ],
        "tokens": {label: [[name, "01", str(pki.cert(name))]] for name, label in labels.items()},
    }
    _run_import(spec, env)
    return conf


def _run_import(spec: dict[str, object], env: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _IMPORT_CERTIFICATES, json.dumps(spec)],
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
