"""One way to write times and numbers (server/textfmt.py, web/format.py), the stored signature
sentences and certificate subjects in the page's language."""

from __future__ import annotations

import datetime as dt

import jinja2

from server.textfmt import (
    format_date,
    format_datetime,
    format_number,
    format_percent,
    format_share,
)
from web.documents.stored_text import stored_in
from web.format import install_filters
from web.subject import subject_in


def test_times_are_vietnam_time_day_first() -> None:
    utc = dt.datetime(2026, 12, 6, 17, 30, 5, tzinfo=dt.UTC)
    assert format_datetime(utc) == "07/12/2026 00:30"  # past midnight in Vietnam
    assert format_datetime(utc, seconds=True) == "07/12/2026 00:30:05"
    assert format_datetime(utc.replace(tzinfo=None)) == "07/12/2026 00:30"  # naive = UTC
    assert format_datetime("2026-12-07T09:30:00+07:00") == "07/12/2026 09:30"
    assert format_datetime("2026-12-06T17:30:00Z") == "07/12/2026 00:30"
    assert format_datetime(None) == "" and format_datetime("") == ""
    assert format_date("2026-12-07") == "07/12/2026"
    assert format_date(dt.date(2026, 1, 2)) == "02/01/2026"
    assert format_date(utc) == "07/12/2026"


def test_numbers_vi_and_en() -> None:
    assert format_number(1234) == "1.234"
    assert format_number(1234567.891, "vi", 2) == "1.234.567,89"
    assert format_number(1234567.891, "en", 2) == "1,234,567.89"
    assert format_share(2, 3) == "66,67 %"
    assert format_share(2, 3, "en") == "66.67 %"
    assert format_share(1, 0) == "0,00 %"
    assert format_percent(12.5, "vi", 1) == "12,5 %"


def test_jinja_filters_follow_the_page_language() -> None:
    env = jinja2.Environment(autoescape=True)
    install_filters(env)
    tpl = env.from_string("{{ n|number }} · {{ 2|share(3) }} · {{ at|datetime }} · {{ d|date }}")
    at = dt.datetime(2026, 12, 7, 2, 0, tzinfo=dt.UTC)
    vi = tpl.render(lang="vi", n=1234, at=at, d="2026-12-07")
    en = tpl.render(lang="en", n=1234, at=at, d="2026-12-07")
    assert vi == "1.234 · 66,67 % · 07/12/2026 09:00 · 07/12/2026"
    assert en == "1,234 · 66.67 % · 07/12/2026 09:00 · 07/12/2026"


def test_certificate_subjects_are_labelled_in_the_page_language() -> None:
    subject = "Common Name: Nguyễn Văn An, Organization: UBND tỉnh, User ID: CCCD:0123, Country: VN"
    vi = subject_in(subject, "vi")
    assert vi == (
        "Tên: Nguyễn Văn An, Tổ chức: UBND tỉnh, Mã định danh (MST/CMND/CCCD): CCCD:0123, "
        "Quốc gia: VN"
    )
    assert subject_in(subject, "en") == subject
    # asn1crypto joins with "; " when a value holds a comma
    assert (
        subject_in("Common Name: A, B; Title: Chủ tịch", "vi") == "Tên: A, B; Chức danh: Chủ tịch"
    )
    assert subject_in(None, "vi") == ""


def test_stored_signature_sentences_in_english() -> None:
    assert stored_in("Tất cả 2 chữ ký/dấu thời gian đều hợp lệ.", "en") == (
        "All 2 signatures/timestamps are valid."
    )
    assert stored_in("1/3 chữ ký/dấu thời gian KHÔNG hợp lệ.", "en") == (
        "1 of 3 signatures/timestamps are NOT valid."
    )
    assert stored_in("Chữ ký gói tin: hợp lệ — Sở Nội vụ", "en") == (
        "Envelope signature: valid — Sở Nội vụ"
    )
    assert stored_in("Tất cả 2 chữ ký/dấu thời gian đều hợp lệ.", "vi").startswith("Tất cả")
    assert stored_in("Một câu khác.", "en") == "Một câu khác."


def test_the_catalogue_matches_what_the_validator_writes() -> None:
    """The stored sentences are read back through the catalogue's Vietnamese text: a change to
    the validator's wording must change the catalogue too."""
    import inspect

    from documents import envelope
    from signing import validate

    source = inspect.getsource(validate)
    assert 'f"Tất cả {len(reports)} chữ ký/dấu thời gian đều hợp lệ."' in source
    assert 'f"{bad}/{len(reports)} chữ ký/dấu thời gian KHÔNG hợp lệ."' in source
    assert '"Tệp không có chữ ký số nào."' in source
    env_source = inspect.getsource(envelope)
    assert '"Chữ ký gói tin: không có"' in env_source
    assert 'f"Chữ ký gói tin: hợp lệ — {self.signer_name}"' in env_source
