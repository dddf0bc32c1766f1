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
    "docs.unverified": (
        "Thông tin văn bản chưa được xác thực (nhập thủ công)",
        "The document's details are not verified (imported by hand)",
    ),
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
    # drafts: compose → the leader signs (token, signing agent) → the agency seal → send
    "docs.drafts": ("Dự thảo, trình ký", "Drafts to sign"),
    "docs.main_any": (
        "Tệp văn bản (PDF đã ký số để gửi ngay, hoặc chưa ký để trình lãnh đạo ký)",
        "Document (a signed PDF to send now, or an unsigned one for a leader to sign)",
    ),
    "docs.save_draft": ("Lưu dự thảo, trình lãnh đạo ký", "Save as a draft for a leader to sign"),
    "docs.draft_saved": (
        "Đã lưu dự thảo; lãnh đạo của cơ quan sẽ ký số trên trang này.",
        "Draft saved; a leader of the agency signs it on this page.",
    ),
    "docs.drafts_empty": ("Không có dự thảo nào đang chờ.", "No drafts waiting."),
    "docs.draft_state": ("Tình trạng", "State"),
    "docs.draft_file": ("Tệp hiện tại", "Current file"),
    "docs.signed_by": ("Lãnh đạo đã ký", "Signed by"),
    "docs.sign_title": ("Ký số bằng token của lãnh đạo", "Sign with the leader's token"),
    "docs.sign_help": (
        "Cắm token ký số vào máy và chạy công cụ ký (lienthong sign-agent). Công cụ ký sẽ hiện số, "
        "trích yếu và mã băm của văn bản rồi hỏi mã PIN; mã PIN không đi qua trang web.",
        "Plug in the signing token and run the signing agent (lienthong sign-agent). It shows the "
        "document's number, subject and digest and asks the PIN; the PIN never goes through the page.",
    ),
    "docs.agent_port": ("Cổng công cụ ký", "Agent port"),
    "docs.pair_code": ("Mã ghép nối", "Pairing code"),
    "docs.pair": ("Ghép nối", "Pair"),
    "docs.demo_pin": ("Mã PIN (token demo)", "PIN (demo token)"),
    "docs.demo_pin_help": (
        "Công cụ ký DEMO: mã PIN in ra khi chạy make run; token thật hỏi PIN trên công cụ ký.",
        "DEMO signing agent: the PIN printed by make run; a real token asks on the agent.",
    ),
    "docs.agent_retry": ("Kiểm tra lại", "Check again"),
    "docs.certificate": ("Chứng thư số", "Certificate"),
    "docs.sign": ("Ký số", "Sign"),
    "docs.agent_looking": ("Đang tìm công cụ ký trên máy này…", "Looking for the signing agent…"),
    "docs.agent_ready": (
        "Đã kết nối công cụ ký. Chọn chứng thư số rồi bấm “Ký số”.",
        "Connected to the signing agent. Choose the certificate and press “Sign”.",
    ),
    "docs.agent_signing": (
        "Đang ký: xác nhận và nhập mã PIN trên cửa sổ công cụ ký…",
        "Signing: confirm and type the PIN in the signing agent…",
    ),
    "docs.agent_signed": ("Đã ký số.", "Signed."),
    "docs.signed_ok": ("Lãnh đạo đã ký số văn bản.", "The leader has signed the document."),
    "docs.seal": ("Ký số của cơ quan (đóng dấu)", "Apply the agency's signature (seal)"),
    "docs.sealed_ok": ("Đã ký số của cơ quan.", "The agency's signature was applied."),
    "docs.no_seal": (
        "Máy chủ chưa có khoá ký số của cơ quan này (seals.toml); liên hệ quản trị hệ thống.",
        "The server has no signing key for this agency (seals.toml); ask the administrator.",
    ),
    "docs.send_draft": ("Gửi văn bản", "Send the document"),
    "docs.wait_leader": (
        "Đang chờ lãnh đạo của cơ quan ký số.",
        "Waiting for a leader of the agency to sign.",
    ),
    # status codes (documents/statuses.py), urgency, confidentiality, draft states
    "status.00": ("Đang chuyển", "In transit"),
    "status.01": ("Đã đến", "Arrived"),
    "status.02": ("Từ chối tiếp nhận", "Refused"),
    "status.03": ("Đã vào sổ", "Registered"),
    "status.04": ("Đã phân công", "Assigned"),
    "status.05": ("Đang xử lý", "In progress"),
    "status.06": ("Hoàn thành", "Completed"),
    "status.13": ("Đề nghị thu hồi/cập nhật/thay thế", "Request to revoke/update/replace"),
    "status.15": ("Đồng ý đề nghị", "Request accepted"),
    "status.16": ("Không đồng ý đề nghị", "Request refused"),
    "urgency.1": ("Thường", "Normal"),
    "urgency.2": ("Khẩn", "Urgent"),
    "urgency.3": ("Thượng khẩn", "Very urgent"),
    "urgency.4": ("Hoả tốc", "Immediate"),
    "conf.0": ("Thường", "Unclassified"),
    "conf.1": ("Mật", "Confidential"),
    "conf.2": ("Tối mật", "Secret"),
    "conf.3": ("Tuyệt mật", "Top secret"),
    "draft.state.draft": ("Dự thảo — chờ lãnh đạo ký", "Draft — awaiting a leader's signature"),
    "draft.state.signed": (
        "Lãnh đạo đã ký — chờ ký số của cơ quan",
        "Signed by a leader — awaiting the agency's signature",
    ),
    "draft.state.sealed": (
        "Đã ký số của cơ quan — sẵn sàng gửi",
        "Signed by the agency — ready to send",
    ),
    "draft.state.sent": ("Đã gửi", "Sent"),
    # sentences stored in Vietnamese with a document (web/documents/stored_text.py)
    "sig.all_ok": (
        "Tất cả {n} chữ ký/dấu thời gian đều hợp lệ.",
        "All {n} signatures/timestamps are valid.",
    ),
    "sig.some_bad": (
        "{bad}/{n} chữ ký/dấu thời gian KHÔNG hợp lệ.",
        "{bad} of {n} signatures/timestamps are NOT valid.",
    ),
    "sig.none": ("Tệp không có chữ ký số nào.", "The file carries no signature."),
    "envelope.none": ("Chữ ký gói tin: không có", "Envelope signature: none"),
    "envelope.ok": ("Chữ ký gói tin: hợp lệ — {name}", "Envelope signature: valid — {name}"),
}


def texts_for(request: web.Request) -> dict[str, str]:
    """Every text in the request's language, for templates (``t["docs.inbox"]``)."""
    index = 1 if lang_of(request) == "en" else 0
    return {key: pair[index] for key, pair in TEXTS.items()}
