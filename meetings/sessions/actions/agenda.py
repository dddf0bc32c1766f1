"""The agenda (chương trình): items and the one under discussion."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from meetings.sessions import repo, speakers_repo
from meetings.sessions.bodies import CurrentItem, NewItem
from meetings.sessions.service import SessionsService, guard_txn
from server.auth.principal import Principal


async def add_item(
    svc: SessionsService, p: Principal, session_id: int, new: NewItem
) -> dict[str, Any]:
    """An agenda item, at the top or under ``new.parent_id``."""

    async def run(session: AsyncSession) -> dict[str, Any]:
        await guard_txn(session, session_id, p, secretariat=True)
        item = await repo.add_item_txn(
            session,
            session_id,
            title=new.title,
            description=new.description,
            parent_id=new.parent_id,
        )
        return {"id": item.id, "title": item.title, "parent_id": item.parent_id}

    data = await svc.write("agenda_add", run)
    await svc.publish(session_id, "agenda.changed", {"item": data})
    return data


async def set_current_item(
    svc: SessionsService, p: Principal, session_id: int, current: CurrentItem
) -> None:
    """Every tablet turns to the item under discussion and its speakers."""
    item_id = current.item_id

    async def run(session: AsyncSession) -> dict[str, Any]:
        await guard_txn(session, session_id, p, secretariat=True)
        await repo.set_current_item_txn(session, session_id, item_id)
        if item_id is None:
            return {"item_id": None, "title": "", "queue": []}
        title = (await repo.get_item_txn(session, session_id, item_id)).title
        queue = await speakers_repo.queue_txn(session, item_id)
        return {"item_id": item_id, "title": title, "queue": queue}

    data = await svc.write("agenda_current", run)
    await svc.publish(session_id, "agenda.current", data)
