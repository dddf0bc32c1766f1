"""Who may see and act on a document (quyền xem văn bản). Pure decisions, no SQL.

* The **sending agency**: its clerks and leaders see every document it sent (its outbox) and the
  timeline of every recipient; the person who created a document sees it too.
* A **recipient agency**: its clerks and leaders see every document it received (its inbox);
  its officials see ordinary documents, and confidential ones (độ mật) only when assigned to them.
  A recipient sees its own handling, never another recipient's.
* Anyone else — another agency, or people of the agency with other roles (council members, video
  endpoints, administrators without the clerk role) — gets "not found" (404), the same answer as
  for a document that does not exist, so that existence is not revealed.
"""

from __future__ import annotations

from dataclasses import dataclass

from documents.models import Document, Recipient
from server.auth.principal import Principal, Role

DESK_ROLES = (Role.CLERK, Role.LEADER)
INBOX_ROLES = (Role.CLERK, Role.LEADER, Role.OFFICIAL)


@dataclass(frozen=True, slots=True)
class Access:
    """What one principal may see of one document."""

    as_sender: bool
    own_recipient: Recipient | None
    """The caller's agency's recipient row when the caller may see it."""

    @property
    def visible(self) -> bool:
        return self.as_sender or self.own_recipient is not None


def sees_as_sender(p: Principal, doc: Document) -> bool:
    if doc.sender_agency_id is None or doc.sender_agency_id != p.agency_id:
        return False
    return p.has(*DESK_ROLES) or (doc.created_by is not None and doc.created_by == p.user_id)


def sees_as_recipient(p: Principal, doc: Document, rec: Recipient | None) -> bool:
    if rec is None or rec.agency_code != p.agency_code:
        return False
    if p.has(*DESK_ROLES):
        return True
    if rec.assignee_id is not None and rec.assignee_id == p.user_id:
        return True
    return doc.confidentiality == 0 and p.has(Role.OFFICIAL)


def access_of(p: Principal, doc: Document, own: Recipient | None) -> Access:
    return Access(sees_as_sender(p, doc), own if sees_as_recipient(p, doc, own) else None)
