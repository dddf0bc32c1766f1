"""The Vietnamese words of the session pages (officials read these; English is not offered here)."""

from __future__ import annotations

TEXTS: dict[str, str] = {
    "sessions.title": "Kỳ họp",
    "sessions.none": "Bạn chưa được mời dự kỳ họp nào.",
    "sessions.new": "Tạo kỳ họp mới",
    "sessions.name": "Tên kỳ họp",
    "sessions.place": "Địa điểm",
    "sessions.date": "Ngày khai mạc",
    "sessions.create": "Tạo",
    "sessions.open": "Mở",
    "role.chair": "Chủ toạ",
    "role.member": "Đại biểu",
    "role.guest": "Khách mời",
    "role.secretariat": "Thư ký",
    "status.draft": "Đang chuẩn bị",
    "status.open": "Đang họp",
    "status.closed": "Đã bế mạc",
    "reader.title": "Đọc tài liệu",
    "wall.title": "Màn hình hội trường",
}
