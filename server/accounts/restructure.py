"""Restructurings: codes that end, their successors, the kind of change and the legal act.

A restructuring file (CSV ``old_code,new_code,change,effective_date,act[,act_date]`` or a JSON list
of objects with those keys) is applied as one transaction: a bad row refuses the whole file and
names the row.  Every code must already be an agency (import the new units first with
``lienthong agency import``); the rows of one old code are its complete set of successors, so
applying the same file again changes nothing.  The model is described in ``docs/agencies.md``.
"""

from __future__ import annotations

import csv
import enum
import io
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.agencies import CODE_RE
from server.accounts.errors import RestructureRejected
from server.accounts.models import Agency, AgencySuccession

CSV_HEADER = ("old_code", "new_code", "change", "effective_date", "act")


class Change(enum.StrEnum):
    """The kind of change that ends a code."""

    MERGED = "merged"
    """Merged into one successor (which may take in several units)."""
    SPLIT = "split"
    """Split into two or more successors."""
    RENAMED = "renamed"
    """Renamed (or re-coded, e.g. a commune that became a ward): exactly one successor."""
    DISSOLVED = "dissolved"
    """Dissolved: no successor."""


@dataclass(frozen=True, slots=True)
class RestructureRow:
    """One line of a restructuring file (``number`` 1 = the first data row)."""

    number: int
    old_code: str
    new_code: str | None
    change: Change
    effective_date: date
    act: str
    act_date: date | None = None


def _reject(number: int, message: str, message_vi: str) -> RestructureRejected:
    return RestructureRejected(
        f"Row {number}: {message}. Nothing was changed.",
        detail_vi=f"Dòng {number}: {message_vi}. Không có thay đổi nào được ghi.",
        extra={"row": number},
    )


def _date(number: int, key: str, text: str, required: bool) -> date | None:
    if not text and not required:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise _reject(
            number, f"{key} {text!r} is not a date (YYYY-MM-DD)", f"ngày {text!r} không hợp lệ"
        ) from None


def parse_row(number: int, raw: dict[str, Any]) -> RestructureRow:
    """One row checked on its own (codes' form, change kind, dates, act)."""
    old = str(raw.get("old_code") or "").strip()
    new = str(raw.get("new_code") or "").strip() or None
    for code in (old, new):
        if code is not None and not CODE_RE.match(code):
            raise _reject(number, f"bad agency code {code!r}", f"mã định danh {code!r} sai dạng")
    try:
        change = Change(str(raw.get("change") or "").strip().lower())
    except ValueError:
        kinds = ", ".join(c.value for c in Change)
        raise _reject(
            number,
            f"change {raw.get('change')!r} is not one of {kinds}",
            f"loại thay đổi {raw.get('change')!r} không thuộc: {kinds}",
        ) from None
    act = str(raw.get("act") or "").strip()
    if not act or len(act) > 100:
        raise _reject(number, "the act's number is missing", "thiếu số văn bản quyết định")
    effective = _date(number, "effective_date", str(raw.get("effective_date") or "").strip(), True)
    assert effective is not None
    act_date = _date(number, "act_date", str(raw.get("act_date") or "").strip(), False)
    if change is Change.DISSOLVED and new is not None:
        raise _reject(
            number, "a dissolved unit has no successor", "đơn vị giải thể không có đơn vị kế thừa"
        )
    if change is not Change.DISSOLVED and new is None:
        raise _reject(number, "the successor's code is missing", "thiếu mã đơn vị kế thừa")
    return RestructureRow(number, old, new, change, effective, act, act_date)


def parse_restructure_csv(text: str) -> list[RestructureRow]:
    """Rows of a CSV file with the header ``old_code,new_code,change,effective_date,act``."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if reader.fieldnames is None or tuple(reader.fieldnames[:5]) != CSV_HEADER:
        raise _reject(
            0,
            "the CSV header must be " + ",".join(CSV_HEADER),
            "dòng tiêu đề CSV phải là " + ",".join(CSV_HEADER),
        )
    return [parse_row(i, dict(r)) for i, r in enumerate(reader, start=1)]


def parse_restructure_json(text: str) -> list[RestructureRow]:
    """Rows of a JSON list (or ``{"changes": [...]}``) of objects with the CSV's keys."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _reject(0, f"not valid JSON ({exc.msg})", "tệp không phải JSON hợp lệ") from None
    if isinstance(data, dict):
        data = data.get("changes")
    if not isinstance(data, list):
        raise _reject(0, "expected a list of changes", "tệp JSON phải là danh sách thay đổi")
    rows = []
    for i, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            raise _reject(i, "is not an object", "không phải một đối tượng")
        rows.append(parse_row(i, item))
    return rows


def parse_restructure(text: str, filename: str) -> list[RestructureRow]:
    """CSV or JSON by the file's name."""
    if filename.lower().endswith(".json"):
        return parse_restructure_json(text)
    return parse_restructure_csv(text)


def _check_groups(rows: Sequence[RestructureRow]) -> dict[str, list[RestructureRow]]:
    """Rows by old code; one change, date and act per old code and the right successor count."""
    groups: dict[str, list[RestructureRow]] = defaultdict(list)
    for row in rows:
        group = groups[row.old_code]
        if group:
            first = group[0]
            if (row.change, row.effective_date, row.act) != (
                first.change,
                first.effective_date,
                first.act,
            ):
                raise _reject(
                    row.number,
                    f"{row.old_code} differs from row {first.number} in change, date or act",
                    f"{row.old_code} khác dòng {first.number} về loại thay đổi, ngày hoặc văn bản",
                )
            if row.new_code in {r.new_code for r in group}:
                raise _reject(row.number, "repeats a row", f"lặp lại dòng {first.number}")
            if row.change in (Change.RENAMED, Change.MERGED, Change.DISSOLVED):
                raise _reject(
                    row.number,
                    f"{row.old_code} {row.change.value} has a second successor",
                    f"{row.old_code} ({row.change.value}) chỉ có một đơn vị kế thừa",
                )
        group.append(row)
    for old, group in groups.items():
        if group[0].change is Change.SPLIT and len(group) < 2:
            raise _reject(
                group[0].number,
                f"{old} split into only one successor (use renamed or merged)",
                f"{old} chia tách phải có ít nhất hai đơn vị kế thừa",
            )
    return groups


async def _load(session: AsyncSession, rows: Sequence[RestructureRow]) -> dict[str, Agency]:
    codes = {r.old_code for r in rows} | {r.new_code for r in rows if r.new_code}
    found = {a.code: a for a in await session.scalars(select(Agency).where(Agency.code.in_(codes)))}
    for row in rows:
        for code in (row.old_code, row.new_code):
            if code is not None and code not in found:
                raise _reject(
                    row.number,
                    f"unknown agency code {code} (import the agency first)",
                    f"không có cơ quan mã {code} (cần nhập cơ quan trước)",
                )
    return found


def _check_dates(row: RestructureRow, by_code: dict[str, Agency]) -> None:
    old = by_code[row.old_code]
    when = row.effective_date
    if old.valid_from is not None and when <= old.valid_from:
        raise _reject(
            row.number,
            f"{when} is not after {old.code} came into existence ({old.valid_from})",
            f"ngày {when} không sau ngày {old.code} được thành lập ({old.valid_from})",
        )
    if old.valid_to is not None and old.valid_to < when - timedelta(days=1):
        raise _reject(
            row.number,
            f"{old.code} had already ended on {old.valid_to}",
            f"{old.code} đã chấm dứt từ ngày {old.valid_to}",
        )
    if row.new_code is None:
        return
    new = by_code[row.new_code]
    if new.valid_from is not None and new.valid_from > when:
        raise _reject(
            row.number,
            f"{new.code} only exists from {new.valid_from}, after {when}",
            f"{new.code} chỉ có từ ngày {new.valid_from}, sau ngày {when}",
        )
    if new.valid_to is not None and new.valid_to < when:
        raise _reject(
            row.number,
            f"{new.code} ended on {new.valid_to}, before {when}",
            f"{new.code} đã chấm dứt ngày {new.valid_to}, trước ngày {when}",
        )


async def _check_cycles(
    session: AsyncSession, rows: Sequence[RestructureRow], by_code: dict[str, Agency]
) -> None:
    """Refuse the row whose edge would let a code succeed itself (through the database's edges
    and the file's earlier rows; the file replaces the edges of its old codes)."""
    replaced = {by_code[r.old_code].id for r in rows}
    edges: dict[int, set[int]] = defaultdict(set)
    for src, dst in (
        await session.execute(
            select(AgencySuccession.agency_id, AgencySuccession.successor_id).where(
                AgencySuccession.successor_id.is_not(None)
            )
        )
    ).all():
        if src not in replaced and dst is not None:
            edges[src].add(dst)
    for row in rows:
        if row.new_code is None:
            continue
        src, dst = by_code[row.old_code].id, by_code[row.new_code].id
        if _reaches(edges, dst, src):
            raise _reject(
                row.number,
                f"{row.old_code} → {row.new_code} would close a cycle of successions",
                f"{row.old_code} → {row.new_code} tạo thành vòng lặp kế thừa",
            )
        edges[src].add(dst)


def _reaches(edges: dict[int, set[int]], start: int, goal: int) -> bool:
    todo, seen = [start], set()
    while todo:
        node = todo.pop()
        if node == goal:
            return True
        if node not in seen:
            seen.add(node)
            todo.extend(edges.get(node, ()))
    return False


@dataclass(frozen=True, slots=True)
class Restructured:
    """What a restructuring did: codes ended and successor links written."""

    ended: int
    links: int


async def restructure_txn(session: AsyncSession, rows: Sequence[RestructureRow]) -> Restructured:
    """Apply a restructuring, all or nothing: every check runs before anything is written.

    Each old code's ``valid_to`` becomes the day before the effective date, its successions are
    replaced by the file's, and a successor without a start date starts on the effective date.
    """
    groups = _check_groups(rows)
    by_code = await _load(session, rows)
    for row in rows:
        _check_dates(row, by_code)
    await _check_cycles(session, rows, by_code)
    ids = [by_code[old].id for old in groups]
    await session.execute(delete(AgencySuccession).where(AgencySuccession.agency_id.in_(ids)))
    for old, group in groups.items():
        when = group[0].effective_date
        by_code[old].valid_to = when - timedelta(days=1)
        for row in group:
            new = by_code[row.new_code] if row.new_code else None
            if new is not None and new.valid_from is None:
                new.valid_from = when
            session.add(
                AgencySuccession(
                    agency_id=by_code[old].id,
                    successor_id=new.id if new else None,
                    change=row.change.value,
                    effective_date=when,
                    act_number=row.act,
                    act_date=row.act_date,
                )
            )
    await session.flush()
    return Restructured(len(groups), sum(1 for r in rows if r.new_code))
