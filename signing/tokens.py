"""PKCS#11 tokens through python-pkcs11: listing, login, key lookup, and the signers built on them.

:class:`TokenSession` is the one owner of a logged-in session: open it once (``with`` or
``async with``), sign as often as needed, close it at shutdown. Every call into the token runs on
the session's own single worker thread: PKCS#11 sessions must not be used from two threads at
once, and async callers must not block the event loop on a USB token.

Errors the token reports are turned into :mod:`signing.errors` (wrong PIN, locked PIN, missing
token, missing key) so that no PKCS#11 exception leaves this module.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import pkcs11
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives.serialization import pkcs12
from pkcs11 import Attribute, ObjectClass, TokenFlag
from pyhanko.sign.pkcs11 import PKCS11Signer
from pyhanko.sign.signers import SimpleSigner
from pyhanko_certvalidator.registry import SimpleCertificateStore

from server.secret import Secret
from signing.errors import KeyNotFound, PinLocked, SigningError, TokenError, TokenNotFound, WrongPin

T = TypeVar("T")

_LOGINS: dict[tuple[str, str], tuple[bytes, int]] = {}
"""Open logged-in sessions per (library, token): SHA-256 of the PIN that logged in, count."""
_LOGINS_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """One token present in a slot."""

    slot_id: int
    label: str
    manufacturer: str
    model: str
    serial: str
    pin_locked: bool
    """The user PIN is locked (too many wrong tries)."""
    pin_final_try: bool
    """One more wrong PIN locks the token."""


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """A private key on the token and the certificate stored with it (same CKA_ID), if any."""

    label: str
    key_id: str
    """CKA_ID in hex."""
    subject: str | None
    """The certificate's subject, human readable, when a certificate is on the token."""


@contextmanager
def _mapped_errors(token_label: str = "") -> Iterator[None]:
    """Turn python-pkcs11 exceptions into ours."""
    try:
        yield
    except pkcs11.exceptions.PinIncorrect:
        raise WrongPin() from None
    except pkcs11.exceptions.PinLocked:
        raise PinLocked() from None
    except (pkcs11.exceptions.NoSuchToken, pkcs11.exceptions.DeviceRemoved):
        raise TokenNotFound(token_label) from None
    except (pkcs11.exceptions.PinInvalid, pkcs11.exceptions.PinLenRange):
        raise WrongPin() from None
    except pkcs11.exceptions.PKCS11Error as exc:
        raise TokenError(
            f"PKCS#11 error: {type(exc).__name__} {exc}",
            detail_vi="Thiết bị ký số (token) báo lỗi. Hãy rút ra, cắm lại và thử lại.",
        ) from None


def load_library(lib_path: str) -> Any:
    """Load (once per process) the PKCS#11 module at ``lib_path``."""
    if not Path(lib_path).is_file():
        raise TokenError(
            f"PKCS#11 library {lib_path} does not exist",
            detail_vi=f"Không tìm thấy thư viện PKCS#11 {lib_path} (trình điều khiển token).",
        )
    with _mapped_errors():
        return pkcs11.lib(lib_path)


def list_tokens(lib_path: str) -> list[TokenInfo]:
    """Tokens present in the slots of the PKCS#11 module."""
    lib = load_library(lib_path)
    found: list[TokenInfo] = []
    with _mapped_errors():
        for slot in lib.get_slots(token_present=True):
            token = slot.get_token()
            flags = token.flags
            if not flags & TokenFlag.TOKEN_INITIALIZED:
                continue
            found.append(
                TokenInfo(
                    slot_id=slot.slot_id,
                    label=token.label,
                    manufacturer=token.manufacturer_id,
                    model=token.model,
                    serial=token.serial.decode("ascii", "replace").strip(),
                    pin_locked=bool(flags & TokenFlag.USER_PIN_LOCKED),
                    pin_final_try=bool(flags & TokenFlag.USER_PIN_FINAL_TRY),
                )
            )
    return found


class TokenSession:
    """A logged-in session on one token; the single owner of it (context manager).

    ``with TokenSession(lib, "LienThong Dev", Secret(pin)) as ts: ts.signer("leader")``
    """

    def __init__(self, lib_path: str, token_label: str, pin: Secret) -> None:
        self.lib_path = lib_path
        self.token_label = token_label
        self._pin = pin
        self._session: Any = None
        self._executor: ThreadPoolExecutor | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def open(self) -> None:
        lib = load_library(self.lib_path)
        with _mapped_errors(self.token_label):
            try:
                token = lib.get_token(token_label=self.token_label)
            except pkcs11.exceptions.NoSuchToken:
                raise TokenNotFound(self.token_label) from None
            if token.flags & TokenFlag.USER_PIN_LOCKED:
                raise PinLocked()
            key = (self.lib_path, self.token_label)
            digest = hashlib.sha256(self._pin.reveal().encode()).digest()
            with _LOGINS_LOCK:
                try:
                    self._session = token.open(user_pin=self._pin.reveal())
                except pkcs11.exceptions.UserAlreadyLoggedIn:
                    # PKCS#11 logins are per process: another session of ours is logged in, so
                    # the token cannot check this PIN; compare it with the one that logged in
                    known = _LOGINS.get(key)
                    if known is None or not hmac.compare_digest(known[0], digest):
                        raise WrongPin() from None
                    self._session = token.open()
                count = _LOGINS.get(key, (digest, 0))[1]
                _LOGINS[key] = (digest, count + 1)

    def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            with _mapped_errors(self.token_label):
                session.close()
            self._forget_login()
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    def __enter__(self) -> TokenSession:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> TokenSession:
        await self.run(self.open)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # close on the worker thread, then stop the worker from here
        session, self._session = self._session, None
        if session is not None:
            await self.run(session.close)
            self._forget_login()
        self.close()

    def _forget_login(self) -> None:
        key = (self.lib_path, self.token_label)
        with _LOGINS_LOCK:
            digest, count = _LOGINS.get(key, (b"", 1))
            if count <= 1:
                _LOGINS.pop(key, None)
            else:
                _LOGINS[key] = (digest, count - 1)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a blocking token call on this session's worker thread."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="pkcs11")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args))

    @property
    def session(self) -> Any:
        if self._session is None:
            raise TokenError(
                "the token session is not open", detail_vi="Phiên làm việc với token chưa mở."
            )
        return self._session

    # -- lookups ---------------------------------------------------------------------------
    def list_keys(self) -> list[KeyInfo]:
        """Private keys on the token, with the subject of the matching certificate."""
        out: list[KeyInfo] = []
        with _mapped_errors(self.token_label):
            certs: dict[bytes, str] = {}
            for obj in self.session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE}):
                cert = asn1_x509.Certificate.load(obj[Attribute.VALUE])
                certs[bytes(obj[Attribute.ID] or b"")] = cert.subject.human_friendly
            for key in self.session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY}):
                key_id = bytes(key[Attribute.ID] or b"")
                out.append(KeyInfo(key.label, key_id.hex(), certs.get(key_id)))
        return out

    def find_key(
        self,
        *,
        label: str | None = None,
        key_id: bytes | None = None,
        cert: asn1_x509.Certificate | None = None,
    ) -> tuple[str | None, bytes | None]:
        """Find the private key by label, id or certificate; return ``(label, id)``."""
        attrs: dict[Any, Any] = {Attribute.CLASS: ObjectClass.PRIVATE_KEY}
        what = label or (key_id.hex() if key_id else None)
        with _mapped_errors(self.token_label):
            if cert is not None:
                what = cert.subject.human_friendly
                match = list(
                    self.session.get_objects(
                        {Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.VALUE: cert.dump()}
                    )
                )
                if not match:
                    raise KeyNotFound(what)
                key_id = bytes(match[0][Attribute.ID])
            if label is not None:
                attrs[Attribute.LABEL] = label
            if key_id is not None:
                attrs[Attribute.ID] = key_id
            if len(attrs) == 1:
                raise KeyNotFound("(no label, id or certificate given)")
            keys = list(self.session.get_objects(attrs))
        if not keys:
            raise KeyNotFound(what or "?")
        if len(keys) > 1:
            raise TokenError(
                f"several keys match {what}",
                detail_vi=f"Có nhiều khoá khớp với {what} trên token; hãy chỉ rõ mã khoá (id).",
            )
        return keys[0].label, bytes(keys[0][Attribute.ID] or b"") or None

    def signer(
        self,
        key_label: str | None = None,
        *,
        key_id: bytes | None = None,
        cert: asn1_x509.Certificate | None = None,
    ) -> PKCS11Signer:
        """A pyHanko signer for the key; its certificate and the CA certificates on the token
        are pulled in for the chain embedded in signatures."""
        label, found_id = self.find_key(label=key_label, key_id=key_id, cert=cert)
        chain = self.ca_certificates()
        # the key was found above; pyHanko's signer only records what to fetch when signing
        which: dict[str, Any] = (
            {"key_id": found_id, "cert_id": found_id}
            if found_id is not None
            else {"key_label": label, "cert_label": label}
        )
        return PKCS11Signer(self.session, ca_chain=chain, other_certs_to_pull=(), **which)

    def ca_certificates(self) -> list[asn1_x509.Certificate]:
        """CA certificates stored on the token (the issuing chain most tokens carry)."""
        with _mapped_errors(self.token_label):
            certs = [
                asn1_x509.Certificate.load(obj[Attribute.VALUE])
                for obj in self.session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE})
            ]
        return [c for c in certs if c.ca]

    def sign_raw(self, key_label: str | None, key_id: bytes | None, data: bytes) -> bytes:
        """One raw CKM_SHA256_RSA_PKCS signature over ``data`` (the token hashes)."""
        attrs: dict[Any, Any] = {Attribute.CLASS: ObjectClass.PRIVATE_KEY}
        if key_label is not None:
            attrs[Attribute.LABEL] = key_label
        if key_id is not None:
            attrs[Attribute.ID] = key_id
        with _mapped_errors(self.token_label):
            keys = list(self.session.get_objects(attrs))
            if len(keys) != 1:
                raise KeyNotFound(key_label or (key_id or b"").hex())
            signature: bytes = keys[0].sign(data, mechanism=pkcs11.Mechanism.SHA256_RSA_PKCS)
        return signature


def pkcs12_signer(path: Path, password: Secret) -> SimpleSigner:
    """A pyHanko signer from a PKCS#12 file (development and demos; real keys live on tokens)."""
    from asn1crypto import keys as asn1_keys
    from cryptography.hazmat.primitives import serialization

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SigningError(
            f"cannot read {path}: {exc.strerror}",
            detail_vi=f"Không đọc được tệp khoá PKCS#12 {path}.",
        ) from None
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(data, password.reveal().encode())
    except ValueError:
        raise WrongPin() from None
    if key is None or cert is None:
        raise KeyNotFound(f"{path} (no key or certificate inside)")
    der = serialization.Encoding.DER
    signing_cert = asn1_x509.Certificate.load(cert.public_bytes(der))
    key_info = asn1_keys.PrivateKeyInfo.load(
        key.private_bytes(der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    registry = SimpleCertificateStore.from_certs(  # type: ignore[no-untyped-call]
        [asn1_x509.Certificate.load(c.public_bytes(der)) for c in extra]
    )
    return SimpleSigner(signing_cert=signing_cert, signing_key=key_info, cert_registry=registry)
