"""The agency's signature (chữ ký số của cơ quan, "đóng dấu"), applied by the server with the
agency's key on an HSM (or, for development, a PKCS#12 file) after the leader has signed.

Configured by ``seals.toml`` in the data directory (or the file named by ``$LIENTHONG_SEALS``);
without it no agency can seal on the server::

    tsa_url = "http://127.0.0.1:8790/tsa"   # else $LIENTHONG_TSA_URL; none → B-B

    [[seal]]
    agency = "000.00.10.H99"                  # the agency code
    pkcs11_lib = "/usr/lib/softhsm/libsofthsm2.so"
    token = "LienThong Dev"                   # token label
    key = "agency"                            # key label on the token
    pin_env = "LIENTHONG_SEAL_PIN"            # the PIN comes from this environment variable
    image = "seal.png"                        # optional: the red seal (demo seal otherwise)
    # instead of pkcs11_lib/token/key/pin_env, for development only:
    # pkcs12 = "agency.p12"
    # password_env = "LIENTHONG_SEAL_P12_PASSWORD"

Relative paths are read from the file's directory. One :class:`tokens.TokenSession` per token is
opened at the first seal and kept until shutdown (the one owner of the login); seals on the same
key are made one at a time.
"""

from __future__ import annotations

import asyncio
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyhanko.sign import signers

from server.errors import ConfigError
from server.secret import Secret
from signing.errors import SigningError
from signing.pades import Level, SignOptions, sign_pdf_async
from signing.remote import tsa_url_from_env
from signing.stamps import Role as StampRole
from signing.tokens import TokenSession, pkcs12_signer


class NoSeal(SigningError):
    status = 409
    code = "documents.no_seal"
    title = "No agency seal configured"

    def __init__(self, agency: str) -> None:
        super().__init__(
            f"no seal key is configured for {agency}",
            detail_vi="Máy chủ chưa có khoá ký số của cơ quan này (con dấu); liên hệ quản trị.",
            extra={"agency": agency},
        )


@dataclass(frozen=True, slots=True)
class SealConfig:
    """The key one agency seals with."""

    agency: str
    pin: Secret
    """Token PIN, or the PKCS#12 password."""
    pkcs11_lib: str | None = None
    token: str | None = None
    key: str | None = None
    pkcs12: Path | None = None
    image: Path | None = None


@dataclass(frozen=True, slots=True)
class SealsConfig:
    seals: tuple[SealConfig, ...] = ()
    tsa_url: str | None = None
    """B-T when set (the seal then carries a trusted time), else B-B."""


def _str(item: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> str | None:
    value = item.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}.{key}", "must be a non-empty string")
    return value.strip()


def load_seals(
    data_dir: Path, env: Mapping[str, str] | None = None, path: Path | None = None
) -> SealsConfig:
    """Read ``seals.toml`` (or ``$LIENTHONG_SEALS``); an empty config when there is none."""
    env = os.environ if env is None else env
    if path is None:
        named = env.get("LIENTHONG_SEALS")
        path = Path(named) if named else data_dir / "seals.toml"
    tsa_env = tsa_url_from_env(env)
    if not path.is_file():
        return SealsConfig(tsa_url=tsa_env)
    try:
        raw = tomllib.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(str(path), f"cannot read: {exc}") from None
    base = path.parent
    tsa = raw.get("tsa_url", tsa_env)
    if tsa is not None and (
        not isinstance(tsa, str) or not tsa.startswith(("http://", "https://"))
    ):
        raise ConfigError("seals.tsa_url", "must be an http(s) URL")
    items = raw.get("seal", [])
    if not isinstance(items, list):
        raise ConfigError("seals.seal", "must be an array of tables ([[seal]])")
    seals: list[SealConfig] = []
    for index, item in enumerate(items):
        where = f"seals.seal[{index}]"
        if not isinstance(item, dict):
            raise ConfigError(where, "must be a table")
        agency = _str(item, "agency", where)
        assert agency is not None
        image = _str(item, "image", where, required=False)
        p12 = _str(item, "pkcs12", where, required=False)
        secret_env = _str(item, "password_env" if p12 else "pin_env", where)
        assert secret_env is not None
        if secret_env not in env:
            raise ConfigError(
                f"{where}.{'password_env' if p12 else 'pin_env'}", f"${secret_env} is not set"
            )
        common: dict[str, Any] = {
            "agency": agency,
            "pin": Secret(env[secret_env]),
            "image": base / image if image else None,
        }
        if p12:
            seals.append(SealConfig(pkcs12=base / p12, **common))
        else:
            seals.append(
                SealConfig(
                    pkcs11_lib=_str(item, "pkcs11_lib", where),
                    token=_str(item, "token", where),
                    key=_str(item, "key", where),
                    **common,
                )
            )
    if len({s.agency for s in seals}) != len(seals):
        raise ConfigError("seals.seal", "an agency is listed twice")
    return SealsConfig(tuple(seals), tsa)


@dataclass
class Seals:
    """The app's seal keys (``app[SEALS_KEY]``): opened on first use, closed at shutdown."""

    config: SealsConfig
    _sessions: dict[tuple[str, str], TokenSession] = field(default_factory=dict)
    _signers: dict[str, signers.Signer] = field(default_factory=dict)
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)

    def configured(self, agency: str) -> bool:
        return any(s.agency == agency for s in self.config.seals)

    async def _signer(self, seal: SealConfig) -> signers.Signer:
        found = self._signers.get(seal.agency)
        if found is not None:
            return found
        if seal.pkcs12 is not None:
            signer: signers.Signer = await asyncio.to_thread(pkcs12_signer, seal.pkcs12, seal.pin)
        else:
            assert seal.pkcs11_lib and seal.token
            key = (seal.pkcs11_lib, seal.token)
            session = self._sessions.get(key)
            if session is None:
                session = TokenSession(seal.pkcs11_lib, seal.token, seal.pin)
                await session.__aenter__()
                self._sessions[key] = session
            signer = await session.run(session.signer, seal.key)
        self._signers[seal.agency] = signer
        return signer

    async def seal(self, agency: str, data: bytes, anchor_text: str) -> bytes:
        """Sign ``data`` with ``agency``'s key, the red seal over the left third of the leader's
        signature (found under ``anchor_text``), as an incremental update."""
        seal = next((s for s in self.config.seals if s.agency == agency), None)
        if seal is None:
            raise NoSeal(agency)
        lock = self._locks.setdefault(agency, asyncio.Lock())
        async with lock:
            signer = await self._signer(seal)
            options = SignOptions(
                level=Level.B_T if self.config.tsa_url else Level.B_B,
                tsa_url=self.config.tsa_url,
                role=StampRole.AGENCY,
                image=seal.image,
                anchor_text=anchor_text,
            )
            signed, _result = await sign_pdf_async(data, signer, options)
        return signed

    async def sign_raw(self, agency: str, data: bytes) -> tuple[bytes, list[bytes]] | None:
        """An RSA PKCS#1 v1.5 SHA-256 signature over ``data`` with ``agency``'s seal key (the
        token hashes: CKM_SHA256_RSA_PKCS) and its certificates (DER, the seal's first, then the
        CA certificates the signer carries); None when no seal is configured for ``agency``.

        For the edXML envelope's XML signature, made with the same key as the PDF seal."""
        seal = next((s for s in self.config.seals if s.agency == agency), None)
        if seal is None:
            return None
        lock = self._locks.setdefault(agency, asyncio.Lock())
        async with lock:
            signer = await self._signer(seal)
            value = await signer.async_sign_raw(data, "sha256")
        cert = signer.signing_cert
        if cert is None:
            raise NoSeal(agency)
        chain = [c for c in signer.cert_registry if c.ca and c.dump() != cert.dump()]
        return value, [cert.dump(), *(c.dump() for c in chain)]

    async def close(self) -> None:
        self._signers.clear()
        for session in self._sessions.values():
            await session.__aexit__(None, None, None)
        self._sessions.clear()
