"""A real Chromium on the real server (``tests/live.py``): the administrator adds the dev PKI's
root on ``/admin/trust``, then a signed PDF uploaded on ``/verify`` shows "hợp lệ" and a tampered
one shows why it fails."""

from __future__ import annotations

from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from server.demo import DEMO_PASSWORD
from signing.devpki import DevPki
from signing.pades import Level, SignOptions, sign_file
from signing.stamps import Role
from signing.tokens import TokenSession
from tests.live import LiveServer, chromium, live_server

from .helpers import add_page_content, written

pytestmark = [pytest.mark.browser, pytest.mark.hsm]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("live-signing")) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def pdfs(
    pki: DevPki, token: TokenSession, sample_pdf: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("browser-pdfs")
    signed = directory / "quyet-dinh-da-ky.pdf"
    sign_file(
        sample_pdf, signed, token.signer("leader"), SignOptions(Level.B_T, pki.tsa_url, Role.LEADER)
    )
    writer = IncrementalPdfFileWriter(BytesIO(signed.read_bytes()))
    add_page_content(writer, 0, b"BT /F1 30 Tf 100 300 Td (SUA DOI) Tj ET")
    tampered = directory / "quyet-dinh-bi-sua.pdf"
    tampered.write_bytes(written(writer))
    return {"signed": signed, "tampered": tampered}


def _login(page: Any, url: str, login: str) -> None:
    page.goto(url + "/login")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(url + "/")


def _upload(page: Any, url: str, pdf: Path) -> None:
    page.goto(url + "/verify")
    page.set_input_files("[data-testid=verify-form] input[name=file]", str(pdf))
    page.click("[data-testid=verify-form] button[type=submit]")
    page.wait_for_selector("[data-testid=verify-report], [data-testid=error]")


def test_trust_root_then_verify_signed_and_tampered(
    pdfs: dict[str, Path], pki: DevPki, server: LiveServer, browser: Any, tmp_path: Path
) -> None:
    # ``pdfs`` first: signing runs its own event loop, which Playwright's would forbid
    context = browser.new_context()
    page = context.new_page()
    _login(page, server.url, "quantri")

    # no root yet: the page says so instead of calling every signature untrusted
    _upload(page, server.url, pdfs["signed"])
    assert "chưa có gốc tin cậy" in page.get_by_test_id("error").inner_text()

    page.goto(server.url + "/admin")
    page.click("a[href='/admin/trust']")
    assert page.locator("h1").inner_text() == "Gốc tin cậy"
    page.set_input_files("[data-testid=trust-add] input[name=file]", str(pki.root_pem))
    page.click("[data-testid=trust-add] button[type=submit]")
    assert page.get_by_test_id("notice").inner_text() == "Đã thêm 1 gốc tin cậy."
    assert "Liên Thông Dev Root CA" in page.get_by_test_id("trust-roots").inner_text()

    _upload(page, server.url, pdfs["signed"])
    assert page.get_by_test_id("verify-summary").inner_text() == (
        "Tất cả 1 chữ ký/dấu thời gian đều hợp lệ."
    )
    verdict = page.get_by_test_id("signature-verdict")
    assert "hợp lệ" in verdict.inner_text() and "KHÔNG" not in verdict.inner_text()
    card = page.get_by_test_id("signature")
    assert "Nguyễn Văn An" in card.inner_text()
    assert page.get_by_test_id("chain").inner_text() == "tin cậy"
    assert page.get_by_test_id("revocation").inner_text() == "chưa bị thu hồi"
    page.screenshot(path=str(tmp_path / "verify-ok.png"), full_page=True)

    _upload(page, server.url, pdfs["tampered"])
    assert "KHÔNG hợp lệ" in page.get_by_test_id("signature-verdict").inner_text()
    assert card.get_attribute("data-ok") == "false"
    problems = page.get_by_test_id("signature-problems").inner_text()
    assert "nội dung trang bị sửa sau khi ký" in problems
    assert page.get_by_test_id("modification").inner_text() == "nội dung trang bị sửa"
    page.screenshot(path=str(tmp_path / "verify-tampered.png"), full_page=True)

    # a file that is not a PDF: a Vietnamese error, the page still works
    junk = tmp_path / "khong-phai.pdf"
    junk.write_bytes(b"PK\x03\x04 not a pdf")
    _upload(page, server.url, junk)
    assert "không phải là tệp PDF" in page.get_by_test_id("error").inner_text()

    # removing the root through the page
    page.goto(server.url + "/admin/trust")
    page.click("[data-testid=trust-remove]")
    assert "Đã xoá gốc tin cậy" in page.get_by_test_id("notice").inner_text()
    assert page.get_by_test_id("trust-none").is_visible()
    context.close()


def test_trust_page_is_for_administrators(server: LiveServer, browser: Any) -> None:
    context = browser.new_context()
    page = context.new_page()
    _login(page, server.url, "vanthu.tinh")
    response = page.goto(server.url + "/admin/trust")
    assert response is not None and response.status == 403
    context.close()
