"""The words of the signature pages, in Vietnamese (the default) and English: ``key: (vi, en)``."""

from __future__ import annotations

TEXTS: dict[str, tuple[str, str]] = {
    "verify.title": ("Kiểm tra chữ ký số", "Check digital signatures"),
    "verify.intro": (
        "Tải lên một tệp PDF đã ký số để kiểm tra từng chữ ký: tính toàn vẹn, chứng thư của người "
        "ký, tình trạng thu hồi, dấu thời gian và các thay đổi sau khi ký.",
        "Upload a signed PDF to check each signature: integrity, the signer's certificate, "
        "revocation, timestamps and what changed after signing.",
    ),
    "verify.file": ("Tệp PDF đã ký", "Signed PDF"),
    "verify.submit": ("Kiểm tra", "Check"),
    "verify.result": ("Kết quả kiểm tra", "Result"),
    "verify.file_name": ("Tệp", "File"),
    "verify.none": ("Tệp không có chữ ký số nào.", "The file carries no signature."),
    "verify.all_ok": (
        "Tất cả {n} chữ ký/dấu thời gian đều hợp lệ.",
        "All {n} signatures/timestamps are valid.",
    ),
    "verify.some_bad": (
        "{bad}/{n} chữ ký/dấu thời gian KHÔNG hợp lệ.",
        "{bad} of {n} signatures/timestamps are NOT valid.",
    ),
    "sig.valid": ("hợp lệ", "valid"),
    "sig.invalid": ("KHÔNG hợp lệ", "NOT valid"),
    "sig.signature": ("Chữ ký", "Signature"),
    "sig.document_timestamp": ("Dấu thời gian tài liệu", "Document timestamp"),
    "sig.signer": ("Người ký", "Signer"),
    "sig.subject": ("Chủ thể chứng thư", "Certificate subject"),
    "sig.signing_time": ("Thời điểm ký (người ký khai)", "Signing time (claimed)"),
    "sig.timestamp_time": ("Dấu thời gian", "Timestamp"),
    "sig.level": ("Mức PAdES", "PAdES level"),
    "sig.integrity": ("Toàn vẹn", "Integrity"),
    "sig.chain": ("Chuỗi chứng thư", "Certificate chain"),
    "sig.revocation": ("Tình trạng thu hồi", "Revocation"),
    "sig.modification": ("Thay đổi sau khi ký", "Changes after signing"),
    "sig.validation_time": ("Kiểm tra chứng thư tại thời điểm", "Chain checked as of"),
    "sig.as_of": (
        "chứng thư đã hết hạn sau khi ký; kiểm tra tại thời điểm của dấu thời gian",
        "the certificate expired after signing; checked as of the timestamp",
    ),
    "sig.problems": ("Lý do", "Reasons"),
    "sig.field": ("Trường chữ ký", "Signature field"),
    "yes.intact": ("nguyên vẹn", "intact"),
    "no.intact": ("đã bị thay đổi", "altered"),
    "yes.trusted": ("tin cậy", "trusted"),
    "no.trusted": ("không tin cậy", "not trusted"),
    "ts.ok": ("hợp lệ", "valid"),
    "ts.bad": ("không hợp lệ", "not valid"),
    "ts.none": ("không có", "none"),
    "rev.good": ("chưa bị thu hồi", "not revoked"),
    "rev.revoked": ("đã bị thu hồi", "revoked"),
    "rev.unknown": ("không xác định được", "unknown"),
    "mod.none": ("không có", "none"),
    "mod.validation_data": (
        "chỉ thêm dữ liệu kiểm tra (DSS, dấu thời gian)",
        "validation data only",
    ),
    "mod.signatures_or_forms": (
        "chỉ thêm chữ ký hoặc điền biểu mẫu",
        "signatures or form filling only",
    ),
    "mod.annotations": ("thêm chú thích", "annotations added"),
    "mod.other": ("nội dung trang bị sửa", "page content changed"),
    "mod.unknown": ("không xác định", "unknown"),
    "problem.not_intact": (
        "nội dung đã bị thay đổi sau khi ký (sai giá trị băm)",
        "the content was changed after signing (digest mismatch)",
    ),
    "problem.invalid": (
        "chữ ký số không đúng về mật mã",
        "the signature is cryptographically wrong",
    ),
    "problem.untrusted": (
        "chứng thư không thuộc tổ chức chứng thực tin cậy",
        "the certificate does not chain to a trusted root",
    ),
    "problem.revoked": ("chứng thư đã bị thu hồi", "the certificate is revoked"),
    "problem.revocation_unknown": (
        "không kiểm tra được tình trạng thu hồi của chứng thư",
        "the certificate's revocation status could not be checked",
    ),
    "problem.expired": (
        "chứng thư đã hết hạn và không có dấu thời gian hợp lệ chứng minh chữ ký có trước đó",
        "the certificate has expired and no valid timestamp proves the signature came earlier",
    ),
    "problem.not_yet_valid": (
        "chứng thư chưa có hiệu lực tại thời điểm kiểm tra",
        "the certificate is not yet valid",
    ),
    "problem.timestamp_invalid": ("dấu thời gian không hợp lệ", "the timestamp is not valid"),
    "problem.page_modified": (
        "nội dung trang bị sửa sau khi ký",
        "page content changed after signing",
    ),
    "problem.annotations_added": (
        "có chú thích được thêm sau khi ký",
        "annotations were added after signing",
    ),
    "problem.error": ("không kiểm tra được chữ ký", "the signature could not be processed"),
    "trust.title": ("Gốc tin cậy", "Trust roots"),
    "trust.intro": (
        "Chứng thư gốc của các tổ chức chứng thực mà máy chủ tin cậy khi kiểm tra chữ ký số. "
        "Chỉ các gốc này được dùng, không dùng kho chứng thư của hệ điều hành.",
        "Root certificates of the certification authorities the server trusts when checking "
        "signatures. Only these are used, never the operating system's store.",
    ),
    "trust.add": ("Thêm gốc tin cậy", "Add a trust root"),
    "trust.file": ("Tệp chứng thư (PEM hoặc DER)", "Certificate file (PEM or DER)"),
    "trust.paste": ("hoặc dán nội dung PEM", "or paste the PEM"),
    "trust.submit": ("Thêm", "Add"),
    "trust.subject": ("Chủ thể", "Subject"),
    "trust.fingerprint": ("Dấu vân tay SHA-256", "SHA-256 fingerprint"),
    "trust.not_after": ("Hết hạn", "Expires"),
    "trust.remove": ("Xoá", "Remove"),
    "trust.none": ("Chưa có gốc tin cậy nào.", "No trust root yet."),
    "trust.added": ("Đã thêm {n} gốc tin cậy.", "Added {n} trust root(s)."),
    "trust.present": ("Gốc tin cậy này đã có.", "This trust root is already present."),
    "trust.removed": ("Đã xoá gốc tin cậy {subject}.", "Removed the trust root {subject}."),
    "trust.confirm": ("Xoá gốc tin cậy này?", "Remove this trust root?"),
}


def texts(lang: str) -> dict[str, str]:
    """Every text in ``lang`` (``vi`` unless ``en``), for templates (``t["verify.title"]``)."""
    index = 1 if lang == "en" else 0
    return {key: pair[index] for key, pair in TEXTS.items()}
