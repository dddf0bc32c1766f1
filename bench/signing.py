"""Benchmark of :mod:`signing`: signatures/s and verifications/s per PAdES level on SoftHSM2,
side by side with stock pyHanko doing the same work on the same files in the same run.

"stock" is pyHanko's API called plainly, the way its documentation shows: ``PdfSigner`` with a
``PKCS11Signer`` on the same token session, an ``HTTPTimeStamper`` without a shared session, a
fresh ``ValidationContext`` per file for validation; the same appearance (image in the same box).
"ours" is :func:`signing.pades.sign_pdf_async` (input checks, anchor search, pre-signing
certificate check, atomic-write-ready bytes) and :class:`signing.validate.Verifier`.

Usage: ``python -m bench.signing [--quick] [--rounds N]``. The last line printed is one JSON
object with every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from io import BytesIO
from pathlib import Path
from typing import Any

LEVELS = ("b-b", "b-t", "b-lt", "b-lta")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait(port: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("responder did not start")


def _stock_sign(data: bytes, signer: Any, level: str, tsa_url: str, roots: list[Any]) -> bytes:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko.sign.timestamps.aiohttp_client import HTTPTimeStamper
    from pyhanko_certvalidator import ValidationContext

    from signing.stamps import Role, default_image, image_style

    box = _STOCK_BOX[0]
    long_term = level in ("b-lt", "b-lta")
    vc = (
        ValidationContext(trust_roots=roots, allow_fetching=True, revocation_mode="hard-fail")
        if long_term
        else None
    )
    meta = signers.PdfSignatureMetadata(
        field_name="Signature1",
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        embed_validation_info=long_term,
        use_pades_lta=level == "b-lta",
        validation_context=vc,
    )
    pdf_signer = signers.PdfSigner(
        meta,
        signer,
        timestamper=HTTPTimeStamper(tsa_url) if level != "b-b" else None,
        stamp_style=image_style(default_image(Role.LEADER)),
        new_field_spec=fields.SigFieldSpec("Signature1", on_page=0, box=box),
    )
    out = BytesIO()
    pdf_signer.sign_pdf(
        IncrementalPdfFileWriter(BytesIO(data)),
        output=out,
        bytes_reserved=_RESERVE[level],
    )
    return out.getvalue()


_STOCK_BOX: list[Any] = [None]
_RESERVE: dict[str, int] = {}


async def _stock_verify(data: bytes, roots: list[Any]) -> bool:
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import async_validate_pdf_signature, async_validate_pdf_timestamp
    from pyhanko_certvalidator import ValidationContext
    from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend

    backend = AIOHttpFetcherBackend()
    try:
        vc = ValidationContext(
            trust_roots=roots,
            allow_fetching=True,
            revocation_mode="hard-fail",
            fetcher_backend=backend,
        )
        reader = PdfFileReader(BytesIO(data))
        ok = True
        for sig in reader.embedded_signatures:
            if sig.sig_object_type == "/DocTimeStamp":
                ts: Any = await async_validate_pdf_timestamp(sig, vc)
                ok = ok and bool(ts.valid and ts.intact and ts.trusted)
            else:
                status: Any = await async_validate_pdf_signature(sig, vc)
                ok = ok and bool(status.bottom_line)
        return ok
    finally:
        await backend.close()  # type: ignore[no-untyped-call]


async def _make_session() -> Any:
    import aiohttp

    return aiohttp.ClientSession()


def _rate(times: list[float]) -> float:
    return 1.0 / statistics.median(times) if times else 0.0


def run(rounds: int, pdf_kb: int) -> dict[str, Any]:
    from server.secret import Secret
    from signing.devpki import SOFTHSM_LIB, create_dev_pki
    from signing.pades import Level, Placement, SignOptions, _default_reserve, sign_pdf_async
    from signing.sample import make_sample_pdf
    from signing.stamps import Role
    from signing.tokens import TokenSession
    from signing.trust import load_cert_files
    from signing.validate import Verifier

    for name in ("pyhanko", "pyhanko_certvalidator", "fontTools"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    tmp = Path(tempfile.mkdtemp(prefix="bench-signing-"))
    port = _free_port()
    pki = create_dev_pki(tmp / "pki", port)
    os.environ["SOFTHSM2_CONF"] = str(pki.softhsm_conf)
    responder = subprocess.Popen(
        [sys.executable, "-m", "signing.cli", "dev-pki", "serve", "--dir", str(pki.dir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    results: dict[str, Any] = {"rounds": rounds, "pdf_bytes": 0, "levels": {}}
    try:
        _wait(port)
        data = make_sample_pdf(padding_kb=pdf_kb)
        results["pdf_bytes"] = len(data)
        roots = load_cert_files([pki.root_pem])
        from signing.anchor import find_text, signature_box

        _STOCK_BOX[0] = signature_box(find_text(data, "CHỦ TỊCH"))
        with TokenSession(SOFTHSM_LIB, pki.token_label, Secret(pki.user_pin)) as token:
            signer = token.signer("leader")
            for level in LEVELS:
                _RESERVE[level] = _default_reserve(Level(level), signer)
                # the same work as stock: the box given; the anchor search is timed apart
                options = SignOptions(
                    Level(level),
                    pki.tsa_url,
                    Role.LEADER,
                    trust_roots=roots,
                    placement=Placement(0, _STOCK_BOX[0]),
                )
                anchored = SignOptions(Level(level), pki.tsa_url, Role.LEADER, trust_roots=roots)
                anchor_t: list[float] = []
                ours_t: list[float] = []
                stock_t: list[float] = []
                ours_files: list[bytes] = []
                stock_files: list[bytes] = []

                # stock and ours alternate round by round, so both see the same machine load
                # (the VM's two cores are shared); one event loop and HTTP session for ours

                with asyncio.Runner() as runner:
                    session = runner.run(_make_session())
                    try:
                        _stock_sign(data, signer, level, pki.tsa_url, roots)  # warm-up
                        runner.run(sign_pdf_async(data, signer, options, session=session))
                        for i in range(rounds):
                            t0 = time.perf_counter()
                            stock_files.append(_stock_sign(data, signer, level, pki.tsa_url, roots))
                            stock_t.append(time.perf_counter() - t0)
                            t0 = time.perf_counter()
                            signed, _r = runner.run(
                                sign_pdf_async(data, signer, options, session=session)
                            )
                            ours_t.append(time.perf_counter() - t0)
                            ours_files.append(signed)
                            if i % 3 == 0:
                                t0 = time.perf_counter()
                                runner.run(sign_pdf_async(data, signer, anchored, session=session))
                                anchor_t.append(time.perf_counter() - t0)
                    finally:
                        runner.run(session.close())

                async def verify_batch(
                    ours_files: list[bytes] = ours_files, stock_files: list[bytes] = stock_files
                ) -> tuple[list[float], list[float], bool]:
                    ov: list[float] = []
                    sv: list[float] = []
                    all_ok = True
                    async with Verifier(roots) as verifier:
                        await verifier.verify(ours_files[0])  # warm-up
                        for mine, theirs in zip(ours_files, stock_files, strict=True):
                            t0 = time.perf_counter()
                            ok = await _stock_verify(theirs, roots)
                            sv.append(time.perf_counter() - t0)
                            t0 = time.perf_counter()
                            report = await verifier.verify(mine)
                            ov.append(time.perf_counter() - t0)
                            all_ok = all_ok and report.ok and ok
                    return ov, sv, all_ok

                ov, sv, all_ok = asyncio.run(verify_batch())
                ours_med, stock_med = statistics.median(ours_t), statistics.median(stock_t)
                row = {
                    "sign_ms_ours": round(ours_med * 1000, 1),
                    "sign_ms_stock": round(stock_med * 1000, 1),
                    "signs_per_s_ours": round(_rate(ours_t), 2),
                    "signs_per_s_stock": round(_rate(stock_t), 2),
                    "sign_overhead_pct": round((ours_med / stock_med - 1) * 100, 1),
                    "sign_ms_ours_with_anchor_search": round(statistics.median(anchor_t) * 1000, 1),
                    "verify_ms_ours": round(statistics.median(ov) * 1000, 1),
                    "verify_ms_stock": round(statistics.median(sv) * 1000, 1),
                    "verifies_per_s_ours": round(_rate(ov), 2),
                    "verifies_per_s_stock": round(_rate(sv), 2),
                    "all_valid": all_ok,
                }
                results["levels"][level] = row
                print(
                    f"{level:6} sign ours {row['sign_ms_ours']:7.1f} ms ({row['signs_per_s_ours']:5.2f}/s)"
                    f"  stock {row['sign_ms_stock']:7.1f} ms ({row['signs_per_s_stock']:5.2f}/s)"
                    f"  overhead {row['sign_overhead_pct']:+5.1f}%"
                    f"  (anchor {row['sign_ms_ours_with_anchor_search']:.1f} ms)"
                    f" | verify ours {row['verify_ms_ours']:6.1f} ms  stock {row['verify_ms_stock']:6.1f} ms"
                    f"  valid={all_ok}",
                    flush=True,
                )
    finally:
        responder.terminate()
        responder.wait(10)
    overheads = [r["sign_overhead_pct"] for r in results["levels"].values()]
    results["max_sign_overhead_pct"] = max(overheads) if overheads else None
    results["floor_ok"] = bool(overheads) and max(overheads) <= 10.0
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="few rounds (under two minutes)")
    parser.add_argument("--rounds", type=int, help="signatures per level and variant")
    parser.add_argument("--pdf-kb", type=int, default=0, help="pad the sample PDF by this many KB")
    args = parser.parse_args(argv)
    rounds = args.rounds or (6 if args.quick else 20)
    started = time.perf_counter()
    results = run(rounds, args.pdf_kb)
    results["elapsed_s"] = round(time.perf_counter() - started, 1)
    print(json.dumps(results, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
