"""Texts of the briefing pages (hội nghị trực tuyến), Vietnamese first, then English.

The templates get them as ``t``; ``room.js`` reads the ``room.*`` ones from a JSON block in the
page (``<script type="application/json" id="lt-texts">``).  ``{name}`` marks a value filled in.
"""

from __future__ import annotations

from aiohttp import web

from web.i18n import lang_of

TEXTS: dict[str, tuple[str, str]] = {
    "brf.title": ("Hội nghị trực tuyến", "Video briefings"),
    "brf.mine": ("Cuộc họp của bạn", "Your briefings"),
    "brf.col.title": ("Tiêu đề", "Title"),
    "brf.col.time": ("Thời gian", "Time"),
    "brf.col.chair": ("Chủ trì", "Chair"),
    "brf.col.status": ("Trạng thái", "Status"),
    "brf.adhoc": ("Đột xuất", "Ad hoc"),
    "brf.status.ended": ("Đã kết thúc", "Ended"),
    "brf.status.live": ("Đang họp", "In progress"),
    "brf.status.scheduled": ("Đã lên lịch", "Scheduled"),
    "brf.join": ("Vào phòng họp", "Enter the room"),
    "brf.none": ("Chưa có cuộc họp nào.", "No briefings yet."),
    "brf.create": ("Tạo cuộc họp", "New briefing"),
    "brf.form.title": ("Tiêu đề", "Title"),
    "brf.form.starts": (
        "Bắt đầu lúc (để trống nếu họp đột xuất)",
        "Starts at (empty for an ad hoc briefing)",
    ),
    "brf.form.endpoints": (
        "Điểm cầu được mời (mã cơ quan, mỗi dòng một mã)",
        "Invited endpoints (agency codes, one a line)",
    ),
    "brf.form.officials": (
        "Cán bộ được mời (tên đăng nhập, mỗi dòng một người)",
        "Invited officials (logins, one a line)",
    ),
    # the room page
    "room.preparing": ("Đang chuẩn bị…", "Getting ready…"),
    "room.recording": ("● Đang ghi hình", "● Recording"),
    "room.quality": ("Chất lượng kết nối", "Connection quality"),
    "room.ended": ("Cuộc họp đã kết thúc.", "The briefing has ended."),
    "room.controls": ("Điều khiển", "Controls"),
    "room.camera": ("Camera", "Camera"),
    "room.mic": ("Micro", "Microphone"),
    "room.layout": ("Bố cục", "Layout"),
    "room.layout.hall": ("Hội trường (chủ trì lớn)", "Hall (chair large)"),
    "room.layout.speaker": ("Người đang nói", "Active speaker"),
    "room.layout.grid": ("Lưới", "Grid"),
    "room.audio_only": ("Chỉ âm thanh", "Audio only"),
    "room.join": ("Tham gia", "Join"),
    "room.mic_off": ("Tắt micro", "Mute"),
    "room.mic_on": ("Bật micro", "Unmute"),
    "room.cam_off": ("Tắt camera", "Camera off"),
    "room.cam_on": ("Bật camera", "Camera on"),
    "room.hand_up": ("Giơ tay", "Raise hand"),
    "room.hand_down": ("Hạ tay", "Lower hand"),
    "room.share": ("Chia sẻ màn hình", "Share screen"),
    "room.share_stop": ("Dừng chia sẻ", "Stop sharing"),
    "room.leave": ("Rời phòng", "Leave"),
    "room.roster": ("Điểm cầu và đại biểu", "Endpoints and participants"),
    "room.chairing": ("Điều hành", "Chairing"),
    "room.roll_call": ("Điểm danh", "Roll call"),
    "room.mute_all": ("Tắt micro tất cả", "Mute everyone"),
    "room.lower_hands": ("Hạ tay tất cả", "Lower every hand"),
    "room.unspotlight": ("Thôi trao lời", "End the floor"),
    "room.record": ("Ghi hình hội trường", "Record the hall"),
    "room.record_stop": ("Dừng ghi hình", "Stop recording"),
    "room.end": ("Kết thúc cuộc họp", "End the briefing"),
    "room.end_confirm": (
        "Kết thúc cuộc họp cho tất cả điểm cầu?",
        "End the briefing for every endpoint?",
    ),
    "room.you": ("Bạn", "You"),
    "room.connecting": ("Đang kết nối…", "Connecting…"),
    "room.reconnecting": ("{why}. Đang kết nối lại…", "{why}. Reconnecting…"),
    "room.lost_server": ("Mất kết nối máy chủ", "Lost the server"),
    "room.lost_network": ("Mất kết nối mạng", "Lost the network"),
    "room.flaky": ("Mạng chập chờn", "Unstable network"),
    "room.back_online": ("Mạng đã có lại", "The network is back"),
    "room.no_access": (
        "Bạn không còn quyền vào phòng họp này",
        "You may no longer enter this room",
    ),
    "room.connected": ("Đã kết nối", "Connected"),
    "room.connected_audio": ("Đã kết nối (chỉ âm thanh)", "Connected (audio only)"),
    "room.muted_by_chair": ("Chủ trì đã tắt micro của bạn", "The chair muted your microphone"),
    "room.invited_to_speak": ("Bạn được mời phát biểu", "You have the floor"),
    "room.weak_on": (
        "Mạng yếu: chỉ nhận hình chủ trì, âm thanh giữ nguyên",
        "Weak network: only the chair's video, audio kept",
    ),
    "room.weak_off": ("Mạng đã ổn định", "The network is stable again"),
    "room.weak_server.loss": (
        "Mạng yếu (mất gói tin): chỉ nhận hình chủ trì, âm thanh giữ nguyên",
        "Weak network (packet loss): only the chair's video, audio kept",
    ),
    "room.weak_server.bandwidth": (
        "Mạng yếu (băng thông thấp): chỉ nhận hình chủ trì, âm thanh giữ nguyên",
        "Weak network (low bandwidth): only the chair's video, audio kept",
    ),
    "room.weak.loss": (
        "Mạng yếu: mất gói tin nhiều, hình có thể bị giật",
        "Weak network: many packets lost, the picture may stutter",
    ),
    "room.weak.delay": (
        "Mạng yếu: độ trễ cao, tiếng và hình đến chậm",
        "Weak network: long delay, sound and picture arrive late",
    ),
    "room.weak.bandwidth": (
        "Mạng yếu: băng thông thấp, đã giảm chất lượng hình gửi đi",
        "Weak network: low bandwidth, the picture we send is reduced",
    ),
    "room.weak_audio": ("Mạng yếu: chuyển sang chỉ âm thanh", "Weak network: audio only"),
    "room.ended_status": ("Cuộc họp đã kết thúc", "The briefing has ended"),
    "room.elsewhere": (
        "Bạn đã vào phòng từ một cửa sổ khác",
        "You entered the room from another window",
    ),
    "room.error": ("Lỗi: {detail}", "Error: {detail}"),
    "room.flag.chair": ("Chủ trì", "chair"),
    "room.flag.offline": ("chưa kết nối", "not connected"),
    "room.flag.muted": ("tắt micro", "muted"),
    "room.flag.audio_only": ("chỉ âm thanh", "audio only"),
    "room.flag.hand": ("xin phát biểu", "asks to speak"),
    "room.flag.codec": (
        "gửi hình {codec}, thiết bị này không xem được",
        "sends {codec} video this device cannot show",
    ),
    "room.codec_mismatch": (
        "Điểm cầu này gửi hình {codec}; thiết bị của bạn không nhận được mã này. "
        "Hãy dùng trình duyệt khác (Chrome, Edge, Safari) hoặc nghe qua âm thanh.",
        "This endpoint sends {codec} video, which your device does not accept. "
        "Use another browser (Chrome, Edge, Safari), or follow by sound.",
    ),
    "room.spotlight": ("Mời phát biểu", "Give the floor"),
    "room.roll.endpoint": ("Điểm cầu", "Endpoint"),
    "room.roll.connected": ("Kết nối", "Connected"),
    "room.roll.rtt": ("RTT (ms)", "RTT (ms)"),
    "room.roll.loss": ("Mất gói (%)", "Packet loss (%)"),
    "room.yes": ("Có", "Yes"),
    "room.no": ("Không", "No"),
    "room.share_failed": ("Không chia sẻ được màn hình", "Could not share the screen"),
    "room.q.good": ("Kết nối tốt", "Good connection"),
    "room.q.fair": ("Kết nối trung bình", "Fair connection"),
    "room.q.poor": ("Kết nối kém", "Poor connection"),
    "room.no_devices": ("Không mở được micro/camera", "Could not open the microphone/camera"),
    "room.left": ("Bạn đã rời phòng", "You left the room"),
    "room.ready": ("Sẵn sàng", "Ready"),
    # the hall's wall (màn hình hội trường), issue 14: kept together for the merge
    "wall.title": ("Màn hình hội trường", "Hall wall"),
    "wall.page": ("Trang {page}/{pages}", "Page {page}/{pages}"),
    "wall.prev": ("Trang trước", "Previous page"),
    "wall.next": ("Trang sau", "Next page"),
    "wall.keys": (
        "Phím ← → hoặc PageUp/PageDown để chuyển trang",
        "Keys ← → or PageUp/PageDown turn the page",
    ),
    "wall.grid": ("Các điểm cầu xã trên trang này", "The communes on this page"),
    "wall.missing": ("Chưa kết nối: {names}", "Not connected: {names}"),
    "wall.missing_none": (
        "Mọi điểm cầu trên trang đã kết nối",
        "Every commune on this page is connected",
    ),
    "wall.missing_total": (
        "Cả cuộc họp: {missing}/{total} điểm cầu chưa kết nối",
        "In all: {missing} of {total} communes not connected",
    ),
    "wall.offline": ("Chưa kết nối", "Not connected"),
    "wall.no_video": ("Đã kết nối, không có hình", "Connected, no picture"),
    "wall.waiting": (
        "Đang chờ chủ trì chọn màn hình này làm màn hình hội trường",
        "Waiting for the chair to make this screen the hall wall",
    ),
    "wall.make": ("Đặt làm màn hình hội trường", "Make it the hall wall"),
    "wall.unmake": ("Thôi làm màn hình hội trường", "No longer the hall wall"),
    "wall.choose": ("Màn hình hội trường", "Hall wall"),
}


def texts_for(request: web.Request) -> dict[str, str]:
    """Every text in the request's language (``t["brf.title"]``)."""
    index = 1 if lang_of(request) == "en" else 0
    return {key: pair[index] for key, pair in TEXTS.items()}
