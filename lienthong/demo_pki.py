"""A demo that signs out of the box: the demo PKI of ``make run`` (``lienthong demo``) and the
services ``lienthong serve`` runs beside itself in demo mode.

``lienthong demo`` creates, once, under ``<data_dir>/demo-pki`` (:data:`DEMO_PKI`): the dev PKI
(:func:`signing.devpki.create_dev_pki`: root, issuing CA, signers, TSA, CRLs and the SoftHSM2
token the server seals with), one SoftHSM2 token per demo signer in a store of its own
(``signers/``, the demo agent's: each holds that person's key and certificate), registers and approves each demo signer's certificate to their
account (:data:`signing.devpki.DEMO_HOLDERS`), writes the demo trust directory (the demo root
only) and a seals file for the two agencies of the demo journey, and a sample draft PDF.

``lienthong serve`` with ``demo`` on (``LIENTHONG_DEMO=1``, as ``make run`` starts it) and that
directory present: trusts the demo root beside the real roots (``Config.trust_dir`` is then
``demo-pki/trust``, refreshed here from ``<data_dir>/trust``), seals with the demo keys, and
starts the TSA/OCSP/CRL responder and a *demo* signing agent as child processes that die with
the server. Outside demo mode nothing of this is read: the demo root is never in
``<data_dir>/trust`` and the seals file is not ``seals.toml``.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from server.config import Config
from server.db import Database
from server.demo import HOME_AFFAIRS, SIGNING_AGENCY
from signing.devpki import DEFAULT_PORT as PKI_PORT
from signing.devpki import DEMO_HOLDERS, SOFTHSM_LIB, DevPki

DEMO_PKI = "demo-pki"
"""The demo PKI's directory under the data directory."""
AGENT_PORT = 8765
"""The demo agent's port (the signing page tries it first) unless $LIENTHONG_DEMO_AGENT_PORT."""
SIGNERS = "signers"
"""The demo signers' SoftHSM2 store (one token each, for the demo agent) under the demo PKI; the
server's own token (the seals) is the dev PKI's."""
SEAL_PIN_ENV = "LIENTHONG_DEMO_SEAL_PIN"
SAMPLE_PDF = "du-thao-mau.pdf"
"""A sample unsigned draft (decision 15/QĐ-UBND, signed by the chair) to upload in the demo."""
SAMPLE_NUMBER = ("15", "QĐ-UBND")
SEAL_AGENCIES = (SIGNING_AGENCY, HOME_AFFAIRS)
"""Who seals in the demo: UBND tỉnh (the journey's sender) and Sở Nội vụ (its recipient)."""


def demo_dir(config: Config) -> Path:
    return config.data_dir / DEMO_PKI


def _port(env_name: str, default: int) -> int:
    raw = os.environ.get(env_name, "")
    return int(raw) if raw.isdigit() else default


def ensure_demo_pki(config: Config) -> tuple[DevPki, bool]:
    """The demo PKI, created if missing (a half-made one from an interrupted run is redone);
    True when it was created now."""
    from signing.devpki import create_dev_pki
    from signing.devtokens import create_personal_tokens
    from signing.trust import TrustStore

    directory = demo_dir(config)
    if (directory / "pki.json").is_file() and (directory / SIGNERS / "softhsm2.conf").is_file():
        return DevPki.load(directory), False
    if directory.exists():
        shutil.rmtree(directory)
    pki = create_dev_pki(directory, _port("LIENTHONG_DEMO_PKI_PORT", PKI_PORT))
    TrustStore(directory / "trust").add(pki.root_pem.read_bytes(), "demo root")
    _write_seals(pki)
    create_personal_tokens(pki, directory / SIGNERS, token_labels())
    from signing.sample import make_sample_pdf

    number, notation = SAMPLE_NUMBER
    make_sample_pdf(directory / SAMPLE_PDF, number=f"{number}/{notation}", title="CHỦ TỊCH")
    return pki, True


def token_labels() -> dict[str, str]:
    """Each demo signer's token: key name → label (``Demo <login>``)."""
    return {name: f"Demo {login}" for name, login in DEMO_HOLDERS.items()}


def _write_seals(pki: DevPki) -> None:
    lines = [f'tsa_url = "{pki.tsa_url}"', ""]
    for agency in SEAL_AGENCIES:
        lines += [
            "[[seal]]",
            f'agency = "{agency}"',
            f'pkcs11_lib = "{SOFTHSM_LIB}"',
            f'token = "{pki.token_label}"',
            'key = "agency"',
            f'pin_env = "{SEAL_PIN_ENV}"',
            "",
        ]
    (pki.dir / "seals.toml").write_text("\n".join(lines), encoding="utf-8")


async def _register_holders(db: Database, pki: DevPki) -> None:
    """Each demo signer's certificate registered and approved to their account (idempotent)."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding
    from sqlalchemy.ext.asyncio import AsyncSession

    from server.accounts.certificates import facts_of, register_txn
    from server.accounts.users import get_user_txn

    async def txn(session: AsyncSession) -> None:
        for name, login in DEMO_HOLDERS.items():
            cert = x509.load_pem_x509_certificate(pki.cert(name).read_bytes())
            user = await get_user_txn(session, login)
            await register_txn(
                session, user, facts_of(cert.public_bytes(Encoding.DER)), status="approved", by=None
            )

    await db.write("demo_certificates", txn)


def _softhsm_missing() -> bool:
    return shutil.which("softhsm2-util") is None or not Path(SOFTHSM_LIB).is_file()


async def seed_demo_pki(db: Database, config: Config) -> str | None:
    """``lienthong demo``: the demo PKI and the demo signers' certificates (a demo seeder);
    skipped, with a line saying so, where SoftHSM2 is not installed (the rest of the demo runs)."""
    if _softhsm_missing():
        return (
            "PKI demo: bỏ qua — chưa cài SoftHSM2 (apt-get install softhsm2), demo không ký được."
        )
    pki, created = ensure_demo_pki(config)
    await _register_holders(db, pki)
    return (
        f"PKI demo{' (mới)' if created else ''}: {pki.dir} — chỉ được tin cậy khi chạy ở chế độ "
        f"demo (LIENTHONG_DEMO=1). Tệp dự thảo mẫu: {pki.dir / SAMPLE_PDF}"
    )


@dataclass
class DemoServices:
    """The demo's child processes, stopped with the server."""

    processes: list[subprocess.Popen[bytes]]

    def stop(self) -> None:
        for proc in self.processes:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.processes:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _die_with_parent() -> Callable[[], None]:
    """A ``preexec_fn`` asking Linux to SIGTERM the child when the server dies (even by SIGKILL)."""
    import ctypes

    def setup() -> None:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG

    return setup


def _spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "lienthong.cli", *args],
        env=env,
        stdin=subprocess.DEVNULL,
        preexec_fn=_die_with_parent(),  # before the server starts any thread
    )


def refresh_demo_trust(config: Config, pki: DevPki) -> None:
    """The demo trust directory = the demo root + the real roots of ``<data_dir>/trust`` now (a
    root removed there since the last start is removed here too)."""
    from signing.trust import TrustStore

    demo_trust = demo_dir(config) / "trust"
    for stale in demo_trust.glob("*.pem"):
        stale.unlink()
    demo_store = TrustStore(demo_trust)
    demo_store.add(pki.root_pem.read_bytes(), "demo root")
    for path in sorted((config.data_dir / "trust").glob("*.pem")):
        demo_store.add(path.read_bytes(), str(path))


def start_demo(config: Config, origin: str) -> DemoServices | None:
    """In demo mode with a demo PKI: trust it, seal with it, start its responder and the demo
    signing agent, print how to use them; None (nothing done) otherwise."""
    directory = demo_dir(config)
    if not config.demo or not (directory / "pki.json").is_file():
        return None
    pki = DevPki.load(directory)
    refresh_demo_trust(config, pki)
    # the agent answers the origin the browser shows: a wildcard bind is browsed on loopback
    origin = origin.replace("://0.0.0.0:", "://127.0.0.1:").replace("://[::]:", "://127.0.0.1:")
    os.environ["SOFTHSM2_CONF"] = str(pki.softhsm_conf)
    os.environ.setdefault("LIENTHONG_SEALS", str(directory / "seals.toml"))
    os.environ[SEAL_PIN_ENV] = pki.user_pin
    os.environ.setdefault("LIENTHONG_TSA_URL", pki.tsa_url)
    env = dict(os.environ, SOFTHSM2_CONF=str(directory / SIGNERS / "softhsm2.conf"))
    port = _port("LIENTHONG_DEMO_AGENT_PORT", AGENT_PORT)
    code = f"{secrets.randbelow(10**6):06d}"
    env["LIENTHONG_DEMO_PAIRING_CODE"] = code
    responder = _spawn(["dev-pki", "serve", "--dir", str(directory)], env)
    agent_args = ["--pkcs11-lib", SOFTHSM_LIB, "--origin", origin, "--port", str(port)]
    agent = _spawn(["sign-agent", "--demo", *agent_args], env)
    _print_demo(pki, port, code)
    return DemoServices([responder, agent])


def _print_demo(pki: DevPki, port: int, code: str) -> None:
    number, notation = SAMPLE_NUMBER
    holders = ", ".join(DEMO_HOLDERS.values())
    print(
        "== CHẾ ĐỘ DEMO — chữ ký số thử nghiệm, không có giá trị pháp lý ==\n"
        f"  Công cụ ký DEMO: http://127.0.0.1:{port}  (cổng công cụ ký trên trang ký: {port})\n"
        f"  Mã ghép nối: {code}\n"
        f"  Mã PIN token demo (mỗi người một token: {holders}): {pki.user_pin}\n"
        f"  Dự thảo mẫu để tải lên: {pki.dir / SAMPLE_PDF}  (số {number}, ký hiệu {notation})\n"
        f"  Dịch vụ cấp dấu thời gian/OCSP/CRL demo: {pki.base_url}",
        flush=True,
    )
