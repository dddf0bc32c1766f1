"""Agencies: identifier codes, the tree, and CSV/JSON import and export.

Codes follow Decision 20/2020/QĐ-TTg as amended: four groups ``XXX.YY.ZZ.Lnn`` — three digits, two,
two, then a letter and two digits (``000.00.00.H99``).  They change with mergers, so each agency
carries validity dates and nothing in the code base names a real code.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.errors import BadAgencyCode, DuplicateAgency, ImportRejected, UnknownAgency
from server.accounts.models import Agency
from server.search import fold, like_folded
from server.vntime import today_vn

CODE_PATTERN = r"\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}"
"""One agency code, unanchored (to find codes inside a certificate's subject, say)."""
CODE_RE = re.compile(f"^{CODE_PATTERN}$")
CSV_HEADER = ("code", "name", "parent_code", "level")


def check_code(code: str) -> str:
    """Return ``code`` stripped, or raise :class:`BadAgencyCode` naming the expected form."""
    code = code.strip()
    if not CODE_RE.match(code):
        raise BadAgencyCode(
            f"Agency code {code!r} is not of the form XXX.YY.ZZ.Lnn (e.g. 000.00.00.H99).",
            detail_vi=f"Mã định danh {code!r} không đúng dạng XXX.YY.ZZ.Lnn (ví dụ 000.00.00.H99).",
            extra={"field": "code"},
        )
    return code


@dataclass(frozen=True, slots=True)
class AgencyRow:
    """One agency as imported or exported."""

    code: str
    name: str
    parent_code: str | None
    level: int
    valid_from: date | None = None
    valid_to: date | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "parent_code": self.parent_code,
            "level": self.level,
            "valid_from": self.valid_from.isoformat() if self.valid_from else None,
            "valid_to": self.valid_to.isoformat() if self.valid_to else None,
        }


def _row_error(number: int, message: str, message_vi: str) -> ImportRejected:
    return ImportRejected(
        f"Row {number}: {message}. Nothing was imported.",
        detail_vi=f"Dòng {number}: {message_vi}. Không có dữ liệu nào được nhập.",
        extra={"row": number},
    )


def _parse_row(number: int, raw: dict[str, Any]) -> AgencyRow:
    code = str(raw.get("code") or "").strip()
    name = str(raw.get("name") or "").strip()
    parent = str(raw.get("parent_code") or "").strip() or None
    if not CODE_RE.match(code):
        raise _row_error(number, f"bad agency code {code!r}", f"mã định danh {code!r} sai dạng")
    if not name:
        raise _row_error(number, "the name is empty", "thiếu tên cơ quan")
    if parent is not None and not CODE_RE.match(parent):
        raise _row_error(
            number, f"bad parent code {parent!r}", f"mã cơ quan cấp trên {parent!r} sai dạng"
        )
    try:
        level = int(str(raw.get("level") or "").strip())
        if not 1 <= level <= 9:
            raise ValueError
    except ValueError:
        raise _row_error(
            number, f"level {raw.get('level')!r} is not 1–9", "cấp phải là số từ 1 đến 9"
        ) from None
    dates: list[date | None] = []
    for key in ("valid_from", "valid_to"):
        text = str(raw.get(key) or "").strip()
        try:
            dates.append(date.fromisoformat(text) if text else None)
        except ValueError:
            raise _row_error(
                number, f"{key} {text!r} is not a date", f"ngày {text!r} không hợp lệ"
            ) from None
    return AgencyRow(code, name, parent, level, dates[0], dates[1])


def parse_csv(text: str) -> list[AgencyRow]:
    """Rows of a CSV file with the header ``code,name,parent_code,level`` (validity optional)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if reader.fieldnames is None or tuple(reader.fieldnames[:4]) != CSV_HEADER:
        raise ImportRejected(
            "The CSV header must be code,name,parent_code,level.",
            detail_vi="Dòng tiêu đề CSV phải là code,name,parent_code,level.",
            extra={"row": 0},
        )
    return [_parse_row(i, dict(r)) for i, r in enumerate(reader, start=1)]


def parse_json(text: str) -> list[AgencyRow]:
    """Rows of a JSON list of objects with the same keys as the CSV."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportRejected(
            f"Not valid JSON: {exc.msg}.", detail_vi="Tệp không phải JSON hợp lệ.", extra={"row": 0}
        ) from None
    if isinstance(data, dict):
        data = data.get("agencies")
    if not isinstance(data, list):
        raise ImportRejected(
            "Expected a list of agencies.",
            detail_vi="Tệp JSON phải là danh sách cơ quan.",
            extra={"row": 0},
        )
    rows = []
    for i, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            raise _row_error(i, "is not an object", "không phải một đối tượng")
        rows.append(_parse_row(i, item))
    return rows


async def import_rows_txn(session: AsyncSession, rows: Sequence[AgencyRow]) -> tuple[int, int]:
    """Create or update agencies by code, all or nothing.  Returns (created, updated).

    Parents may come later in the file than their children; a parent must exist in the file or
    the database.  Any bad row raises before anything is written.
    """
    seen: dict[str, int] = {}
    for i, row in enumerate(rows, start=1):
        if row.code in seen:
            raise _row_error(
                i, f"code {row.code} repeats row {seen[row.code]}", f"mã {row.code} bị lặp"
            )
        seen[row.code] = i
    existing = {
        a.code: a
        for a in (
            await session.scalars(select(Agency).where(Agency.code.in_([*seen, *_parents(rows)])))
        )
    }
    for i, row in enumerate(rows, start=1):
        if row.parent_code and row.parent_code not in seen and row.parent_code not in existing:
            raise _row_error(
                i,
                f"parent {row.parent_code} is neither in the file nor known",
                f"cơ quan cấp trên {row.parent_code} không có trong tệp và chưa được khai báo",
            )
        if row.parent_code == row.code:
            raise _row_error(
                i,
                "an agency cannot be its own parent",
                "cơ quan không thể là cấp trên của chính nó",
            )
    created = updated = 0
    by_code = dict(existing)
    for row in rows:
        agency = by_code.get(row.code)
        if agency is None:
            agency = Agency(code=row.code, name=row.name, level=row.level)
            session.add(agency)
            by_code[row.code] = agency
            created += 1
        else:
            updated += 1
        agency.name = row.name
        agency.level = row.level
        agency.valid_from = row.valid_from
        agency.valid_to = row.valid_to
    await session.flush()
    for row in rows:
        parent = by_code.get(row.parent_code) if row.parent_code else None
        by_code[row.code].parent_id = parent.id if parent else None
    await session.flush()
    return created, updated


def _parents(rows: Iterable[AgencyRow]) -> list[str]:
    return [r.parent_code for r in rows if r.parent_code]


async def create_agency_txn(session: AsyncSession, row: AgencyRow) -> Agency:
    """Create one agency; 409 when the code exists, 404 when the parent is unknown."""
    check_code(row.code)
    if await session.scalar(select(Agency.id).where(Agency.code == row.code)) is not None:
        raise DuplicateAgency(
            f"Agency {row.code} exists already.", detail_vi=f"Cơ quan mã {row.code} đã có."
        )
    parent_id = None
    if row.parent_code:
        parent_id = (await get_agency_txn(session, row.parent_code)).id
    agency = Agency(
        code=row.code,
        name=row.name,
        level=row.level,
        parent_id=parent_id,
        valid_from=row.valid_from,
        valid_to=row.valid_to,
    )
    session.add(agency)
    await session.flush()
    return agency


async def get_agency_txn(session: AsyncSession, code: str) -> Agency:
    check_code(code)
    agency = await session.scalar(select(Agency).where(Agency.code == code))
    if agency is None:
        raise UnknownAgency(f"No agency has code {code}.", detail_vi=f"Không có cơ quan mã {code}.")
    return agency


async def list_agencies_txn(session: AsyncSession, q: str = "") -> list[AgencyRow]:
    """Every agency, parents before children, as rows for pages and export; with ``q``, those
    whose name (by the search fold of :mod:`server.search`) or code contains it."""
    agencies = list(await session.scalars(select(Agency).order_by(Agency.level, Agency.code)))
    codes = {a.id: a.code for a in agencies}
    if fold(q):
        found = await session.scalars(
            select(Agency.id).where(like_folded(Agency.name_folded, q) | _code_like(q))
        )
        wanted = set(found)
        agencies = [a for a in agencies if a.id in wanted]
    return [
        AgencyRow(
            a.code,
            a.name,
            codes.get(a.parent_id) if a.parent_id else None,
            a.level,
            a.valid_from,
            a.valid_to,
        )
        for a in agencies
    ]


def _code_like(q: str) -> ColumnElement[bool]:
    needle = q.strip().upper().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return Agency.code.like(f"%{needle}%", escape="\\")


def live_rows(rows: Sequence[AgencyRow], on: date | None = None) -> list[AgencyRow]:
    """The rows whose code is valid on ``on`` (today by default): what forms offer as a parent,
    an agency for a person, or a recipient, once restructured units have ended."""
    day = on or today_vn()
    return [
        r
        for r in rows
        if (r.valid_from is None or r.valid_from <= day)
        and (r.valid_to is None or day <= r.valid_to)
    ]


def to_csv(rows: Sequence[AgencyRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*CSV_HEADER, "valid_from", "valid_to"])
    for r in rows:
        writer.writerow(
            [
                r.code,
                r.name,
                r.parent_code or "",
                r.level,
                r.valid_from.isoformat() if r.valid_from else "",
                r.valid_to.isoformat() if r.valid_to else "",
            ]
        )
    return out.getvalue()


def to_json(rows: Sequence[AgencyRow]) -> str:
    return json.dumps([r.to_json() for r in rows], ensure_ascii=False, indent=2)
