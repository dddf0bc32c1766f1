"""The audit log in words: each action code the platform writes (``server.audit.log.append_txn``)
with a Vietnamese and an English phrase.  ``tests/platform/test_i18n.py`` finds every code written
in the code base and fails when one has no phrase here."""

from __future__ import annotations

ACTIONS: dict[str, tuple[str, str]] = {
    # log-in and tokens
    "auth.login": ("Đăng nhập", "Logged in"),
    "auth.login_failed": ("Đăng nhập sai mật khẩu", "Failed login"),
    "auth.login_disabled": ("Tài khoản bị vô hiệu hoá đăng nhập", "Login to a disabled account"),
    "auth.login_throttled": ("Đăng nhập bị tạm chặn (quá nhiều lần sai)", "Login throttled"),
    "auth.logout": ("Đăng xuất", "Logged out"),
    "auth.logout_everywhere": ("Đăng xuất khỏi mọi thiết bị", "Logged out everywhere"),
    "token.created": ("Tạo mã truy cập API", "API token created"),
    "token.revoked": ("Thu hồi mã truy cập API", "API token revoked"),
    # people and agencies
    "user.created": ("Thêm người dùng", "Person added"),
    "user.disabled": ("Vô hiệu hoá người dùng", "Person disabled"),
    "user.enabled": ("Kích hoạt lại người dùng", "Person re-enabled"),
    "user.roles_changed": ("Đổi vai trò", "Roles changed"),
    "user.password_changed": ("Đổi mật khẩu", "Password changed"),
    "user.password_reset": ("Đặt lại mật khẩu", "Password reset"),
    "user.certificate_registered": ("Đăng ký chứng thư số", "Certificate registered"),
    "user.certificate_approved": ("Phê duyệt chứng thư số", "Certificate approved"),
    "user.certificate_revoked": ("Thu hồi đăng ký chứng thư số", "Certificate withdrawn"),
    "agency.created": ("Thêm hoặc sửa cơ quan", "Agency added or changed"),
    "agency.imported": ("Nhập danh sách cơ quan", "Agencies imported"),
    "agency.restructured": ("Sắp xếp đơn vị hành chính", "Agencies restructured"),
    "trust_root.added": ("Thêm gốc tin cậy", "Trust root added"),
    "trust_root.removed": ("Gỡ gốc tin cậy", "Trust root removed"),
    "signature.made": ("Ký số", "Signature made"),
    "demo.seeded": ("Nạp dữ liệu mẫu", "Demo data loaded"),
    # documents
    "document.sent": ("Gửi văn bản", "Document sent"),
    "document.received": ("Nhận văn bản", "Document received"),
    "document.imported": ("Nhập gói edXML", "edXML package imported"),
    "document.refused": ("Từ chối tiếp nhận văn bản", "Document refused"),
    "document.registered": ("Vào sổ văn bản đến", "Document registered"),
    "document.assigned": ("Phân công xử lý", "Document assigned"),
    "document.status": ("Cập nhật tình trạng xử lý", "Handling status updated"),
    "document.revoke_requested": ("Đề nghị thu hồi văn bản", "Revocation requested"),
    "document.update_requested": ("Đề nghị cập nhật văn bản", "Update requested"),
    "document.request_answered": ("Trả lời đề nghị thu hồi/cập nhật", "Request answered"),
    "document.draft_created": ("Lưu dự thảo", "Draft saved"),
    "document.draft_signed": ("Lãnh đạo ký số dự thảo", "Draft signed by a leader"),
    "document.draft_sealed": ("Ký số của cơ quan", "Agency signature applied"),
    # sessions
    "session.create": ("Tạo kỳ họp", "Session created"),
    "session.clone": ("Sao chép kỳ họp", "Session copied"),
    "session.status": ("Đổi trạng thái kỳ họp", "Session status changed"),
    "session.invite": ("Mời dự kỳ họp", "Session invitation"),
    "session.conclusions": ("Ghi kết luận", "Conclusions recorded"),
    "session.minutes_signed": ("Ký biên bản kỳ họp", "Minutes signed"),
    "sitting.start": ("Bắt đầu phiên họp", "Sitting started"),
    "attendance.set": ("Điểm danh", "Attendance recorded"),
    "paper.upload": ("Tải lên tài liệu", "Paper uploaded"),
    "paper.replace": ("Thay tài liệu", "Paper replaced"),
    "paper.withdraw": ("Rút tài liệu", "Paper withdrawn"),
    "paper.download": ("Tải về tài liệu", "Paper downloaded"),
    "vote.open": ("Mở biểu quyết", "Vote opened"),
    "vote.close": ("Kết thúc biểu quyết", "Vote closed"),
    "vote.cast": ("Bỏ phiếu", "Vote cast"),
    "vote.voters": ("Danh sách người biểu quyết", "Voters listed"),
    # briefings
    "briefing.created": ("Tạo hội nghị trực tuyến", "Briefing created"),
    "briefing.ended": ("Kết thúc hội nghị", "Briefing ended"),
    "briefing.mute": ("Chủ trì tắt micro một điểm cầu", "Chair muted an endpoint"),
    "briefing.mute_all": ("Chủ trì tắt micro tất cả", "Chair muted everyone"),
    "briefing.spotlight": ("Chủ trì trao lời", "Chair gave the floor"),
    "briefing.unspotlight": ("Chủ trì thôi trao lời", "Chair ended the floor"),
    "briefing.record_start": ("Bắt đầu ghi hình", "Recording started"),
    "briefing.record_stop": ("Dừng ghi hình", "Recording stopped"),
}


def action_label(code: str, lang: str) -> str:
    """The phrase for ``code`` in ``lang``; an unknown code is shown as it is."""
    pair = ACTIONS.get(code)
    if pair is None:
        return code
    return pair[1] if lang == "en" else pair[0]
