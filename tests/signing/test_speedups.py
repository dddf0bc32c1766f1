"""The fast paths of :mod:`signing.speedups` give stock pyHanko's answers: the chunked hex reader
against pyHanko's own on edge cases and random input, the memoised name comparison against
asn1crypto's, and whole validation reports — on valid files, the tamper matrix and bad signers —
with the fast paths against stock pyHanko (the reference)."""

from __future__ import annotations

import asyncio
import random
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers

from server.secret import Secret
from signing import pathcache, speedups
from signing.devpki import DevPki
from signing.pades import Level, SignOptions, sign_pdf_async
from signing.stamps import Role
from signing.tokens import pkcs12_signer
from signing.trust import load_cert_files
from signing.validate import DocumentReport, Verifier

from .helpers import add_page_content, written

# -- the hex string reader ----------------------------------------------------------------------


def _read_both(raw: bytes) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    def run(read: Any) -> tuple[Any, ...]:
        stream = BytesIO(raw)
        try:
            value = read(stream)
        except Exception as exc:
            return ("error", type(exc).__name__, str(exc))
        return ("ok", type(value).__name__, bytes(value.original_bytes), stream.tell())

    return run(speedups._ORIGINAL_READ_HEX), run(speedups.read_hex_string)


HEX_CASES = [
    b"<>",
    b"<> trailing",
    b"<41>",
    b"<4>",
    b"<414>",
    b"<41 42\n43\r\n44\t45\f46\x0047>/Next",
    b"<feff00540069>",  # UTF-16 with BOM: a text string
    b"<ABCDEFabcdef0123456789>",
    b"<41 % a comment > still comment\n 42>",
    b"<41 42 G>",
    b"<41 42",  # no closing '>'
    b"<",
    b"<41<42>",
    b"<" + b"30" * 40_000 + b">rest",  # longer than one chunk
    b"<" + b"3" * (speedups._CHUNK - 1) + b">",  # '>' right at the chunk boundary
    b"<" + b"3" * speedups._CHUNK + b">",
    b"<" + b"0" * 20_000 + b" \n" * 100 + b">",  # signature space padding
]


@pytest.mark.parametrize("raw", HEX_CASES, ids=range(len(HEX_CASES)))
def test_hex_reader_matches_pyhanko(raw: bytes) -> None:
    stock, fast = _read_both(raw)
    assert fast == stock


def test_hex_reader_matches_pyhanko_on_random_input() -> None:
    rng = random.Random(20261201)
    alphabet = b"0123456789abcdefABCDEF" * 4 + b" \n\r\t\f\x00" + b"%>gZ<(/"
    for _ in range(2000):
        body = bytes(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        raw = b"<" + body + rng.choice([b">", b"", b">>", b"> 0 R"])
        stock, fast = _read_both(raw)
        assert fast == stock, raw


# -- name comparison ----------------------------------------------------------------------------


def _name(**attrs: str) -> asn1_x509.Name:
    return asn1_x509.Name.build(attrs)


def test_name_comparison_matches_asn1crypto() -> None:
    names = [
        _name(common_name="Nguyễn Văn An", organization_name="UBND tỉnh Demo"),
        _name(common_name="nguyễn văn an", organization_name="UBND TỈNH DEMO"),
        _name(common_name="Nguyễn  Văn An ", organization_name="UBND tỉnh Demo"),
        _name(common_name="Trần Thị Bình", organization_name="UBND tỉnh Demo"),
        _name(common_name="Nguyễn Văn An"),
        asn1_x509.Name.build({"common_name": "Nguyen Van An"}, use_printable=True),
        _name(common_name="NGUYEN VAN AN"),
    ]
    for a in names:
        for b in names:
            stock = speedups._ORIGINAL_NAME_EQ(a, b)
            for _ in range(2):  # the second time from the memo
                assert speedups.name_equal(a, b) == stock
                assert speedups._name_not_equal(a, b) == (not stock)
    assert speedups.name_equal(names[0], "Nguyễn Văn An") is False
    for a in names:
        stock_key = speedups._ORIGINAL_NAME_HASHABLE.fget(a)  # type: ignore[misc]
        assert speedups.name_hashable(a) == stock_key == speedups.name_hashable(a)


# -- whole reports ------------------------------------------------------------------------------


def _pyhanko_sign(data: bytes, p12: Path, password: str) -> bytes:
    """Sign with pyHanko directly (B-B), skipping our pre-signing check that refuses a revoked or
    expired certificate, to get such files for the validator."""
    signer = pkcs12_signer(p12, Secret(password))
    meta = signers.PdfSignatureMetadata(field_name="ChuKy", subfilter=fields.SigSeedSubFilter.PADES)
    out = BytesIO()
    signers.sign_pdf(IncrementalPdfFileWriter(BytesIO(data)), meta, signer=signer, output=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def corpus(pki: DevPki, sample_pdf: Path) -> dict[str, bytes]:
    """Valid files and every kind of bad one the validator must catch."""

    base = sample_pdf.read_bytes()

    async def make() -> dict[str, bytes]:
        password = Secret(pki.p12_password)

        async def sign(data: bytes, who: str, level: Level) -> bytes:
            options = SignOptions(level, pki.tsa_url, Role.INVISIBLE)
            signed, _ = await sign_pdf_async(data, pkcs12_signer(pki.p12(who), password), options)
            return signed

        bt = await sign(base, "leader", Level.B_T)
        pair = await sign(bt, "agency", Level.B_LT)
        files = {"b-t": bt, "pair": pair, "b-b": await sign(base, "clerk", Level.B_B)}
        flipped = bytearray(bt)
        at = flipped.index(b"13 Tf")  # a font size in the signed page content
        flipped[at + 1] = ord("4")
        files["byte_flipped"] = bytes(flipped)
        pair_flipped = bytearray(pair)
        pair_flipped[pair_flipped.index(b"13 Tf") + 1] = ord("4")
        files["pair_byte_flipped"] = bytes(pair_flipped)
        for name, signed in (("page_edited", bt), ("pair_page_edited", pair)):
            writer = IncrementalPdfFileWriter(BytesIO(signed))
            add_page_content(writer, 0, b"BT /F1 30 Tf 100 300 Td (SUA DOI) Tj ET")
            files[name] = written(writer)
        contents = bt.rindex(b"/Contents <") + len(b"/Contents <")
        sig_flipped = bytearray(bt)  # one hex digit of the CMS blob itself
        sig_flipped[contents + 40] = (
            ord("0") if sig_flipped[contents + 40] != ord("0") else ord("1")
        )
        files["contents_flipped"] = bytes(sig_flipped)  # the CMS no longer parses
        der_len = int(bt[contents + 4 : contents + 8], 16) + 4  # 30 82 LL LL: a long form
        late = contents + 2 * (der_len - 120)  # inside the signature value near the end
        sig_flipped = bytearray(bt)
        sig_flipped[late] = ord("0") if sig_flipped[late] != ord("0") else ord("1")
        files["contents_flipped_late"] = bytes(sig_flipped)
        return files

    files = asyncio.run(make())
    files["revoked_signer"] = _pyhanko_sign(base, pki.p12("revoked"), pki.p12_password)
    files["expired_signer"] = _pyhanko_sign(base, pki.p12("expired"), pki.p12_password)
    return files


def _comparable(report: DocumentReport) -> dict[str, Any]:
    data = report.to_dict()
    for sig in data["signatures"]:
        sig.pop("validation_time")  # the moment of checking, not part of the verdict
    return data


def _reports(
    files: dict[str, bytes], roots: list[Any], *, fast: bool, reuse: bool
) -> dict[str, dict[str, Any]]:
    async def run() -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        if reuse:  # one verifier for all files, as the server keeps it: caches are exercised
            async with Verifier(roots, fast=fast) as verifier:
                for name, data in files.items():
                    out[name] = _comparable(await verifier.verify(data))
        else:
            for name, data in files.items():
                async with Verifier(roots, fast=fast) as verifier:
                    out[name] = _comparable(await verifier.verify(data))
        return out

    return asyncio.run(run())


@pytest.mark.hsm
def test_fast_validation_gives_stock_pyhankos_verdicts(
    corpus: dict[str, bytes], roots: list[Any]
) -> None:
    speedups.uninstall()
    pathcache.uninstall()
    try:
        stock = _reports(corpus, roots, fast=False, reuse=False)
    finally:
        speedups.install()
        pathcache.install()
    assert speedups.installed()
    hits = pathcache.hits
    # valid files first, then the bad ones, then the valid ones again: nothing learnt from a
    # good file may excuse a bad one, nor the other way round
    order = ["b-t", "pair", "b-b", *(k for k in corpus if k not in ("b-t", "pair", "b-b"))]
    ordered = {k: corpus[k] for k in [*order, "b-t", "pair"]}
    fast = _reports(ordered, roots, fast=True, reuse=True)
    for name in corpus:
        assert fast[name] == stock[name], name
    assert pathcache.hits > hits  # the reused verifier did answer paths from its cache
    assert stock["b-t"]["ok"] and stock["pair"]["ok"] and stock["b-b"]["ok"]
    for bad in (
        "byte_flipped",
        "pair_byte_flipped",
        "page_edited",
        "pair_page_edited",
        "contents_flipped",
        "contents_flipped_late",
        "revoked_signer",
        "expired_signer",
    ):
        assert not stock[bad]["ok"], bad
    problems = {k: [p for s in v["signatures"] for p in s["problems"]] for k, v in stock.items()}
    assert "not_intact" in problems["byte_flipped"]
    assert "page_modified" in problems["page_edited"]
    assert "revoked" in problems["revoked_signer"]
    assert "expired" in problems["expired_signer"]


@pytest.mark.hsm
def test_path_cache_keeps_only_successes_and_not_past_revocation_data(
    corpus: dict[str, bytes], roots: list[Any], pki: DevPki
) -> None:
    def der(name: str) -> bytes:
        return bytes(load_cert_files([pki.cert(name)])[0].dump())

    async def run() -> None:
        async with Verifier(roots) as verifier:
            assert (await verifier.verify(corpus["b-t"])).ok
            assert not (await verifier.verify(corpus["revoked_signer"])).ok
            assert not (await verifier.verify(corpus["expired_signer"])).ok
            cache = verifier._paths
            assert cache is not None
            kept = {bytes(path.last.dump()) for path, _expires in cache.paths.values()}
            assert der("leader") in kept and der("tsa") in kept
            assert der("revoked") not in kept and der("expired") not in kept
            context = verifier._context(None)  # a context over the same fetchers
            revinfo_ends = [t for t in pathcache._next_updates(context) if t is not None]
            assert revinfo_ends  # OCSP answers and CRLs fetched online, each with nextUpdate
            for _path, expires in cache.paths.values():
                assert expires <= min(revinfo_ends)
                assert expires <= cache.until

    asyncio.run(run())


def _with_altered_intermediate(signed: bytes, intermediate: bytes) -> bytes:
    """``signed`` with one bit of the issuing CA's signature flipped in the certificates the CMS
    carries (outside the signed byte range: the document digest still matches)."""
    start = signed.rindex(b"/Contents <") + len(b"/Contents <")
    end = signed.index(b">", start)
    blob = bytes.fromhex(signed[start:end].decode())
    assert blob.count(intermediate) == 1
    altered = intermediate[:-1] + bytes([intermediate[-1] ^ 1])
    text = blob.replace(intermediate, altered).hex().encode()
    if signed[start:end].isupper():
        text = text.upper()
    return signed[:start] + text + signed[end:]


@pytest.mark.hsm
def test_warm_and_fresh_verifiers_agree_on_an_altered_intermediate(
    corpus: dict[str, bytes], roots: list[Any], pki: DevPki
) -> None:
    inter = bytes(load_cert_files([pki.dir / "intermediate.pem"])[0].dump())
    altered = _with_altered_intermediate(corpus["b-b"], inter)

    async def run() -> tuple[DocumentReport, DocumentReport]:
        async with Verifier(roots) as fresh:
            cold = await fresh.verify(altered)
        async with Verifier(roots) as warm:  # as the server: the intact file seen first
            assert (await warm.verify(corpus["b-b"])).ok
            return cold, await warm.verify(altered)

    cold, warm = asyncio.run(run())
    assert not cold.ok and "untrusted" in cold.signatures[0].problems
    assert cold.signatures[0].intact and cold.signatures[0].valid  # only the path is broken
    assert _comparable(warm) == _comparable(cold)
