"""Page texts in Vietnamese (the default) and English, chosen by the ``lt_lang`` cookie."""

from __future__ import annotations

from aiohttp import web

LANGS = ("vi", "en")
COOKIE = "lt_lang"

TEXTS: dict[str, tuple[str, str]] = {
    # key: (Vietnamese, English)
    "app.name": ("Liên Thông", "Liên Thông"),
    "app.tagline": (
        "Văn bản điện tử, phòng họp không giấy và hội nghị trực tuyến",
        "Signed documents, paperless sessions and video briefings",
    ),
    "lang.switch": ("English", "Tiếng Việt"),
    "login.title": ("Đăng nhập", "Log in"),
    "login.login": ("Tên đăng nhập", "Login"),
    "login.password": ("Mật khẩu", "Password"),
    "login.submit": ("Đăng nhập", "Log in"),
    "login.expired": (
        "Phiên làm việc đã hết hạn. Vui lòng đăng nhập lại.",
        "Your session has expired. Please log in again.",
    ),
    "login.form_expired": (
        "Phiên đăng nhập không hợp lệ; vui lòng thử lại.",
        "The login form expired; please try again.",
    ),
    "logout": ("Đăng xuất", "Log out"),
    "logout.everywhere": ("Đăng xuất khỏi mọi thiết bị", "Log out on every device"),
    "logout.everywhere_hint": (
        "Đóng mọi phiên đăng nhập và thu hồi các mã truy cập API đã tạo từ các phiên đó.",
        "Closes every login session and revokes the API tokens created from them.",
    ),
    "home.title": ("Trang chủ", "Home"),
    "home.hello": ("Xin chào", "Hello"),
    "home.agency": ("Cơ quan", "Agency"),
    "home.roles": ("Vai trò", "Roles"),
    "home.soon": ("Chưa triển khai trên máy chủ này", "Not yet available on this server"),
    "tile.documents": ("Văn bản điện tử", "Official documents"),
    "tile.documents.desc": (
        "Soạn, ký số, gửi và tiếp nhận văn bản liên thông",
        "Draft, sign, send and receive documents between agencies",
    ),
    "tile.drafts": ("Trình ký", "To sign"),
    "tile.drafts.desc": (
        "Dự thảo văn bản chờ lãnh đạo ký số",
        "Drafts waiting for a leader's signature",
    ),
    "tile.drafts.waiting": (
        "{n} dự thảo đang chờ bạn ký số",
        "{n} drafts waiting for your signature",
    ),
    "tile.sessions": ("Kỳ họp", "Council sessions"),
    "tile.sessions.desc": (
        "Tài liệu kỳ họp, đăng ký phát biểu, biểu quyết",
        "Session papers, speaking requests, votes",
    ),
    "tile.briefings": ("Hội nghị trực tuyến", "Video briefings"),
    "tile.briefings.desc": (
        "Giao ban trực tuyến tỉnh – xã",
        "Province and commune video briefings",
    ),
    "tile.admin": ("Quản trị", "Administration"),
    "tile.admin.desc": ("Cơ quan, người dùng, nhật ký", "Agencies, people, audit log"),
    "tile.account": ("Tài khoản của tôi", "My account"),
    "tile.account.desc": (
        "Đổi mật khẩu, mã truy cập API, đăng xuất mọi nơi",
        "Password, API tokens, log out everywhere",
    ),
    "admin.agencies": ("Cơ quan", "Agencies"),
    "admin.users": ("Người dùng", "People"),
    "admin.audit": ("Nhật ký hệ thống", "Audit log"),
    "admin.trust": ("Gốc tin cậy", "Trust roots"),
    "agency.code": ("Mã định danh", "Identifier code"),
    "agency.name": ("Tên cơ quan", "Name"),
    "agency.parent": ("Cơ quan cấp trên", "Parent agency"),
    "agency.level": ("Cấp", "Level"),
    "agency.add": ("Thêm cơ quan", "Add an agency"),
    "agency.import": ("Nhập từ tệp CSV/JSON", "Import a CSV/JSON file"),
    "agency.export": ("Xuất CSV", "Export CSV"),
    "agency.none": ("(không có)", "(none)"),
    "agency.tree": ("Cây cơ quan theo ngày", "The agency tree on a day"),
    "agency.on": ("Tại ngày", "On"),
    "agency.show": ("Xem", "Show"),
    "agency.q": ("Tên hoặc mã có chứa", "Name or code containing"),
    "agency.none_on": ("Không có cơ quan nào tại ngày này.", "No agency on that day."),
    "agency.since": ("Từ", "From"),
    "agency.until": ("đến hết", "until"),
    "agency.act": ("theo", "by"),
    "agency.formed_from": ("Hình thành từ", "Formed from"),
    "agency.restructure": ("Nhập sắp xếp đơn vị hành chính", "Import a restructuring"),
    "agency.restructure_hint": (
        "Tệp CSV old_code,new_code,change,effective_date,act (change: merged, split, renamed, "
        "dissolved) hoặc JSON. Một dòng sai thì không dòng nào được ghi.",
        "CSV old_code,new_code,change,effective_date,act (change: merged, split, renamed, "
        "dissolved) or JSON. One bad row and nothing is written.",
    ),
    "agency.restructured": (
        "Đã ghi sắp xếp: {ended} mã chấm dứt, {links} liên kết kế thừa.",
        "Restructured: {ended} codes ended, {links} successor links.",
    ),
    "change.merged": ("Sáp nhập vào", "Merged into"),
    "change.split": ("Chia tách thành", "Split into"),
    "change.renamed": ("Đổi tên thành", "Renamed to"),
    "change.dissolved": ("Giải thể", "Dissolved"),
    "user.login": ("Tên đăng nhập", "Login"),
    "user.name": ("Họ và tên", "Full name"),
    "user.agency": ("Cơ quan", "Agency"),
    "user.roles": ("Vai trò", "Roles"),
    "user.add": ("Thêm người dùng", "Add a person"),
    "user.password": ("Mật khẩu ban đầu", "Initial password"),
    "user.save_roles": ("Lưu vai trò", "Save roles"),
    "user.state": ("Trạng thái", "State"),
    "user.q": ("Tên, tên đăng nhập hoặc cơ quan có chứa", "Name, login or agency containing"),
    "admin.search": ("Tìm", "Search"),
    "user.active": ("Đang hoạt động", "Active"),
    "user.disabled": ("Đã vô hiệu hoá", "Disabled"),
    "user.must_change": ("Phải đổi mật khẩu khi đăng nhập", "Must change password at login"),
    "user.disable": ("Vô hiệu hoá", "Disable"),
    "user.enable": ("Kích hoạt lại", "Re-enable"),
    "user.new_password": ("Mật khẩu mới", "New password"),
    "user.reset": ("Đặt lại mật khẩu", "Reset password"),
    "user.reset_done": (
        "Đã đặt lại mật khẩu của {login}; người dùng phải đổi mật khẩu khi đăng nhập.",
        "{login}'s password was reset; they must change it at their next login.",
    ),
    "cert.title": ("Chứng thư số ký của cán bộ", "Officials' signing certificates"),
    "cert.help": (
        "Chỉ chứng thư số đã đăng ký và được phê duyệt cho một người mới ký được văn bản, biên bản "
        "với tên người đó. Chứng thư dùng lần đầu được đề nghị tự động và chờ phê duyệt.",
        "Only a certificate registered and approved for a person signs in their name. A "
        "certificate used for the first time is proposed and awaits approval.",
    ),
    "cert.register": ("Đăng ký chứng thư số", "Register a certificate"),
    "cert.pem": ("Chứng thư số (PEM hoặc base64)", "Certificate (PEM or base64)"),
    "cert.holder": ("Chủ chứng thư", "Certificate holder"),
    "cert.personal_id": ("Số định danh", "Personal id"),
    "cert.valid_to": ("Hiệu lực đến", "Valid until"),
    "cert.status": ("Tình trạng", "Status"),
    "cert.proposed": ("Chờ phê duyệt", "Awaiting approval"),
    "cert.approved": ("Đã phê duyệt", "Approved"),
    "cert.revoked": ("Đã thu hồi", "Withdrawn"),
    "cert.approve": ("Phê duyệt", "Approve"),
    "cert.revoke": ("Thu hồi", "Withdraw"),
    "audit.verify_ok": ("Chuỗi nhật ký toàn vẹn", "The audit chain is intact"),
    "audit.verify_bad": ("Nhật ký đã bị sửa hoặc xoá", "The audit log was altered or deleted"),
    "audit.entries": ("bản ghi", "entries"),
    "audit.at": ("Thời gian", "Time"),
    "audit.actor": ("Người thực hiện", "Actor"),
    "audit.action": ("Hành động", "Action"),
    "audit.target": ("Đối tượng", "Target"),
    "account.token": ("Tạo mã truy cập API", "Create an API token"),
    "account.token_name": ("Tên gợi nhớ", "Label"),
    "account.token_once": (
        "Sao chép mã này ngay: nó chỉ hiện một lần.",
        "Copy this token now: it is shown only once.",
    ),
    "account.password": ("Đổi mật khẩu", "Change password"),
    "account.current_password": ("Mật khẩu hiện tại", "Current password"),
    "account.new_password": ("Mật khẩu mới", "New password"),
    "account.new_password2": ("Nhập lại mật khẩu mới", "New password again"),
    "account.change_password": ("Đổi mật khẩu", "Change password"),
    "account.password_hint": (
        "Sau khi đổi, mọi phiên đăng nhập khác của bạn sẽ kết thúc.",
        "Once changed, every other login session of yours ends.",
    ),
    "account.password_changed": (
        "Đã đổi mật khẩu. Các phiên đăng nhập khác đã kết thúc.",
        "Password changed. Your other sessions have ended.",
    ),
    "account.must_change": (
        "Quản trị viên đã đặt lại mật khẩu của bạn. Vui lòng đặt mật khẩu mới để tiếp tục.",
        "An administrator reset your password. Choose a new one to continue.",
    ),
    "saved": ("Đã lưu.", "Saved."),
    "imported": (
        "Đã nhập: {created} mới, {updated} cập nhật.",
        "Imported: {created} new, {updated} updated.",
    ),
    "error.title": ("Có lỗi", "Something went wrong"),
    "error.back": ("Về trang chủ", "Back to the home page"),
    "submit": ("Lưu", "Save"),
    "role.admin": ("Quản trị", "Administrator"),
    "role.clerk": ("Văn thư", "Clerk"),
    "role.leader": ("Lãnh đạo", "Leader"),
    "role.secretariat": ("Thư ký kỳ họp", "Secretariat"),
    "role.member": ("Đại biểu", "Council member"),
    "role.endpoint": ("Điểm cầu", "Endpoint operator"),
    "role.official": ("Chuyên viên", "Official"),
}


def lang_of(request: web.Request) -> str:
    lang = request.cookies.get(COOKIE, "vi")
    return lang if lang in LANGS else "vi"


def translate(key: str, lang: str, **fmt: object) -> str:
    pair = TEXTS.get(key)
    if pair is None:
        return key
    text = pair[1] if lang == "en" else pair[0]
    return text.format(**fmt) if fmt else text
