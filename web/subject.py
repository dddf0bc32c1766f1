"""A certificate's subject or issuer in the page's language.

The platform keeps subjects as :mod:`asn1crypto` writes them (``Common Name: Nguyễn Văn An,
Organization: UBND tỉnh, Country: VN``); a Vietnamese page shows the fields with Vietnamese
labels (``Tên: Nguyễn Văn An, Tổ chức: UBND tỉnh, Quốc gia: VN``).  Values are left as they are.
"""

from __future__ import annotations

import re

FIELDS: dict[str, tuple[str, str]] = {
    # asn1crypto's label: (Vietnamese, English)
    "Common Name": ("Tên", "Common Name"),
    "Surname": ("Họ", "Surname"),
    "Given Name": ("Tên riêng", "Given Name"),
    "Serial Number": ("Số hiệu", "Serial Number"),
    "Title": ("Chức danh", "Title"),
    "Organization": ("Tổ chức", "Organization"),
    "Organizational Unit": ("Đơn vị", "Organizational Unit"),
    "Organization Identifier": ("Mã tổ chức", "Organization Identifier"),
    "Locality": ("Quận/Huyện/Xã", "Locality"),
    "State/Province": ("Tỉnh/Thành phố", "State/Province"),
    "Street Address": ("Địa chỉ", "Street Address"),
    "Country": ("Quốc gia", "Country"),
    "Email Address": ("Thư điện tử", "Email Address"),
    "User ID": ("Mã định danh (MST/CMND/CCCD)", "User ID"),
    "Unique Identifier": ("Mã định danh", "Unique Identifier"),
    "Postal Code": ("Mã bưu chính", "Postal Code"),
    "Telephone Number": ("Số điện thoại", "Telephone Number"),
    "Name": ("Họ và tên", "Name"),
    "Pseudonym": ("Bí danh", "Pseudonym"),
    "Business Category": ("Loại hình", "Business Category"),
    "Domain Component": ("Thành phần miền", "Domain Component"),
}

_LABEL = re.compile(
    r"(\A|, |; )(" + "|".join(re.escape(k) for k in sorted(FIELDS, key=len, reverse=True)) + r"): "
)


def subject_in(subject: str | None, lang: str) -> str:
    """``subject`` with its field labels in ``lang`` (``vi`` or ``en``)."""
    if not subject:
        return ""
    index = 1 if lang == "en" else 0
    return _LABEL.sub(lambda m: f"{m.group(1)}{FIELDS[m.group(2)][index]}: ", subject)


def subject_fields(lang: str) -> dict[str, str]:
    """asn1crypto's label → the label in ``lang`` (for the scripts, which relabel the same way)."""
    index = 1 if lang == "en" else 0
    return {key: pair[index] for key, pair in FIELDS.items()}
