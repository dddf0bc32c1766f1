"""Drop-in replacements for library hot spots in signature validation, same results, less CPU.

Measured on a 1 MB B-T file (DESIGN.md, "PAdES with pyHanko"): pyHanko reads the hex ``/Contents``
string of a signature one character at a time (``read_non_whitespace`` per digit, ~40 ms for
16 KB of reserved space), and asn1crypto compares certificate names (``Name.__eq__``, RFC 5280
with RFC 4518 string preparation) from scratch for every freshly parsed certificate, which
pyHanko does hundreds of times per file while matching signer identifiers.

* :func:`read_hex_string` reads the string in chunks and decodes it with ``binascii`` when it holds
  only hex digits and PDF whitespace up to the closing ``>``; anything else (a comment, a stray
  character, no ``>`` before the end) rewinds and lets pyHanko's own reader decide, so its
  result and its errors are pyHanko's exactly.
* :func:`name_equal` memoises asn1crypto's comparison by the DER encodings of the two names, and
  :func:`name_hashable` its prepared form (the key pyHanko's certificate registry looks issuers
  up by); both are pure functions of those bytes, so the memo cannot change an answer.

:func:`install` patches them in (idempotent); :func:`uninstall` restores the originals (tests use
it to compare verdicts with stock pyHanko). ``tests/signing/test_speedups.py`` checks each against
the originals on edge cases and random input, and whole reports with and without them.
"""

from __future__ import annotations

import binascii
import os
import threading
from collections.abc import Callable
from typing import Any

from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils import generic

_PDF_WHITESPACE = b" \n\r\t\f\x00"
"""pyHanko's ``misc.PDF_WHITESPACE``: what its reader skips between hex digits."""
_HEX_DIGITS = b"0123456789abcdefABCDEF"
_CHUNK = 64 * 1024
_NAME_MEMO_MAX = 4096

_ORIGINAL_READ_HEX = generic.read_hex_string_from_stream
_ORIGINAL_NAME_EQ: Callable[[Any, Any], bool] = asn1_x509.Name.__eq__
_ORIGINAL_NAME_NE: Callable[[Any, Any], bool] = asn1_x509.Name.__ne__
_ORIGINAL_NAME_HASHABLE: property = asn1_x509.Name.hashable

_name_memo: dict[tuple[bytes, bytes], bool] = {}
_hashable_memo: dict[bytes, str] = {}
_lock = threading.Lock()
_installed = False


def read_hex_string(stream: Any) -> Any:
    """pyHanko's ``read_hex_string_from_stream``, chunked: the stream is at the opening ``<``."""
    start = stream.tell()
    stream.read(1)
    parts: list[bytes] = []
    while True:
        chunk = stream.read(_CHUNK)
        if not chunk:  # no closing '>': pyHanko raises its own error
            stream.seek(start)
            return _ORIGINAL_READ_HEX(stream)
        end = chunk.find(b">")
        if end >= 0:
            parts.append(chunk[:end])
            stream.seek(end + 1 - len(chunk), os.SEEK_CUR)  # just after the '>'
            break
        parts.append(chunk)
    digits = b"".join(parts).translate(None, _PDF_WHITESPACE)
    if digits.translate(None, _HEX_DIGITS):
        # a comment or a character that is not a hex digit: pyHanko's reader decides
        stream.seek(start)
        return _ORIGINAL_READ_HEX(stream)
    if len(digits) % 2:
        digits += b"0"  # an odd final digit is followed by an implied 0 (ISO 32000 7.3.4.3)
    return generic.pdf_string(binascii.unhexlify(digits))


def name_equal(self: asn1_x509.Name, other: object) -> bool:
    """asn1crypto's ``Name.__eq__``, memoised by the DER encodings of both names."""
    if not isinstance(other, asn1_x509.Name):
        return False
    key = (self.dump(), other.dump())
    found = _name_memo.get(key)
    if found is None:
        found = bool(_ORIGINAL_NAME_EQ(self, other))
        if len(_name_memo) >= _NAME_MEMO_MAX:
            _name_memo.clear()
        _name_memo[key] = found
    return found


def name_hashable(self: asn1_x509.Name) -> str:
    """asn1crypto's ``Name.hashable`` (the prepared form used as a dict key), memoised by DER."""
    key = self.dump()
    found = _hashable_memo.get(key)
    if found is None:
        found = str(_ORIGINAL_NAME_HASHABLE.fget(self))  # type: ignore[misc]
        if len(_hashable_memo) >= _NAME_MEMO_MAX:
            _hashable_memo.clear()
        _hashable_memo[key] = found
    return found


def _name_not_equal(self: asn1_x509.Name, other: object) -> bool:
    return not name_equal(self, other)


def install() -> None:
    """Use the fast versions in this process (idempotent, thread-safe)."""
    global _installed
    with _lock:
        if _installed:
            return
        generic.read_hex_string_from_stream = read_hex_string
        asn1_x509.Name.__eq__ = name_equal
        asn1_x509.Name.__ne__ = _name_not_equal
        asn1_x509.Name.hashable = property(name_hashable)
        _installed = True


def uninstall() -> None:
    """Restore pyHanko's and asn1crypto's own functions."""
    global _installed
    with _lock:
        generic.read_hex_string_from_stream = _ORIGINAL_READ_HEX
        asn1_x509.Name.__eq__ = _ORIGINAL_NAME_EQ
        asn1_x509.Name.__ne__ = _ORIGINAL_NAME_NE
        asn1_x509.Name.hashable = _ORIGINAL_NAME_HASHABLE
        _name_memo.clear()
        _hashable_memo.clear()
        _installed = False


def installed() -> bool:
    return _installed
