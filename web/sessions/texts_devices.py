"""Texts of the session pages designed per device (issue 13): the reader's toolbar and notes
drawer, the desk's sections and speaking timer, the vote count, the minutes' state.  Merged into
``web.sessions.texts.TEXTS``; Vietnamese first, then English.
"""

from __future__ import annotations

DEVICE_TEXTS: dict[str, tuple[str, str]] = {
    # the reader
    "reader.tools": ("Công cụ đọc tài liệu", "Reader tools"),
    "notes.close": ("Đóng ghi chú", "Close the notes"),
    "notes.label": ("Nội dung ghi chú", "Your note"),
    "ink.pen_hint": (
        "Bút cảm ứng luôn vẽ được; bật chế độ này để vẽ bằng ngón tay hoặc chuột",
        "The pencil always draws; turn this on to draw with a finger or the mouse",
    ),
    # the desk
    "agenda.current_badge": ("Đang thảo luận", "Under discussion"),
    "desk.nav": ("Các phần điều hành", "Parts of the desk"),
    "desk.sec_agenda": ("Chương trình nghị sự", "Agenda"),
    "desk.sec_attendance": ("Điểm danh", "Attendance"),
    "desk.sec_speakers": ("Phát biểu", "Speakers"),
    "desk.sec_votes": ("Biểu quyết", "Votes"),
    "desk.sec_minutes": ("Biên bản", "Minutes"),
    "desk.item_parent": ("Thuộc mục", "Under"),
    "desk.poll_item": ("Thuộc nội dung", "Agenda item"),
    "desk.threshold": ("Ngưỡng thông qua", "Threshold to pass"),
    "desk.file": ("Tệp PDF", "PDF file"),
    "desk.who": ("Đại biểu", "Member"),
    "desk.status": ("Tình trạng", "Status"),
    "desk.cert": ("Chứng thư số dùng để ký", "Certificate to sign with"),
    "desk.signed_file": ("Tệp biên bản đã ký số", "Signed minutes file"),
    "timer.title": ("Đồng hồ phát biểu", "Speaking timer"),
    "timer.limit": ("Thời gian mỗi lượt", "Time per speech"),
    "timer.minutes": ("{n} phút", "{n} min"),
    "timer.pause": ("Tạm dừng", "Pause"),
    "timer.resume": ("Tiếp tục", "Resume"),
    "timer.reset": ("Đặt lại", "Reset"),
    "timer.paused": ("đang tạm dừng", "paused"),
    "timer.none": ("Chưa có ai đang phát biểu.", "Nobody is speaking."),
    # votes, quorum, minutes
    "vote.live_of": ("Đã biểu quyết: {voted}/{total} đại biểu", "Voted: {voted}/{total} members"),
    "quorum.not_started": (
        "Phiên họp chưa bắt đầu: chưa điểm danh",
        "The sitting has not started: no attendance yet",
    ),
    "minutes.outdated": (
        "Đã cũ: có biểu quyết sau khi ký, cần ký lại",
        "Outdated: votes since it was signed, sign again",
    ),
    "wall.paused": ("Tạm dừng", "Paused"),
}
