"""Texts of the documents pages, Vietnamese first (kept here rather than in ``web/i18n.py``)."""

from __future__ import annotations

from aiohttp import web

from web.i18n import lang_of

TEXTS: dict[str, tuple[str, str]] = {
    "docs.title": ("Văn bản điện tử", "Official documents"),
    "docs.inbox": ("Văn bản đến", "Inbox"),
    "docs.outbox": ("Văn bản đi", "Sent"),
    "docs.compose": ("Soạn và gửi", "Compose and send"),
    "docs.search": ("Tìm kiếm", "Search"),
    "docs.q": ("Số, ký hiệu hoặc trích yếu", "Number, notation or subject"),
    "docs.any_status": ("Mọi trạng thái", "Any status"),
    "docs.empty": ("Chưa có văn bản nào.", "No documents yet."),
    "docs.number": ("Số, ký hiệu", "Number"),
    "docs.number_only": ("Số", "Number"),
    "docs.notation": ("Ký hiệu", "Notation"),
    "docs.type": ("Loại văn bản", "Type"),
    "docs.subject": ("Trích yếu", "Subject"),
    "docs.sender": ("Cơ quan gửi", "From"),
    "docs.recipients": ("Nơi nhận", "To"),
    "docs.date": ("Ngày ban hành", "Date"),
    "docs.place": ("Nơi ban hành", "Place"),
    "docs.signer": ("Người ký", "Signer"),
    "docs.position": ("Chức vụ", "Position"),
    "docs.urgency": ("Độ khẩn", "Urgency"),
    "docs.confidentiality": ("Độ mật", "Confidentiality"),
    "docs.due": ("Hạn xử lý", "Due"),
    "docs.status": ("Trạng thái", "Status"),
    "docs.incoming": ("Số đến", "Incoming no."),
    "docs.received": ("Ngày đến", "Received"),
    "docs.main": ("Tệp văn bản (PDF đã ký số)", "Document (signed PDF)"),
    "docs.attachments": ("Tệp đính kèm", "Attachments"),
    "docs.send": ("Gửi văn bản", "Send"),
    "docs.sent_ok": ("Đã gửi văn bản.", "The document was sent."),
    "docs.signature": ("Chữ ký số", "Signature"),
    "docs.timeline": ("Quá trình xử lý", "Handling timeline"),
    "docs.register": ("Vào sổ", "Register"),
    "docs.refuse": ("Từ chối tiếp nhận", "Refuse"),
    "docs.reason": ("Lý do", "Reason"),
    "docs.assign": ("Phân công xử lý", "Assign"),
    "docs.assignee": ("Người xử lý", "Assignee"),
    "docs.note": ("Ghi chú", "Note"),
    "docs.progress": ("Đang xử lý", "In progress"),
    "docs.complete": ("Hoàn thành", "Completed"),
    "docs.status_ok": ("Đã cập nhật trạng thái.", "Status updated."),
    "docs.live": (
        "Có cập nhật mới — đang tải lại…",
        "Something changed — reloading…",
    ),
    "docs.download": ("Tải về", "Download"),
    "docs.edxml": ("Tải edXML", "Download edXML"),
    "docs.actions": ("Xử lý", "Actions"),
    "docs.request": ("Đề nghị của cơ quan gửi", "Request from the sender"),
    "docs.accept": ("Đồng ý", "Accept"),
    "docs.decline": ("Không đồng ý", "Refuse"),
    "docs.revoke": ("Thu hồi văn bản", "Revoke"),
    "docs.replaces": ("Văn bản này thay thế văn bản", "This document replaces"),
    "docs.replaced_by": ("Văn bản này đã được thay thế bởi", "Replaced by"),
}


def texts_for(request: web.Request) -> dict[str, str]:
    """Every text in the request's language, for templates (``t["docs.inbox"]``)."""
    index = 1 if lang_of(request) == "en" else 0
    return {key: pair[index] for key, pair in TEXTS.items()}
