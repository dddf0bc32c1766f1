"""What the libraries signing builds on raise on bad input, caught where a library reads what a
client sent and turned into a verdict or one of :mod:`signing.errors`' exceptions.

Anything not listed (RuntimeError, OSError, MemoryError…) is a bug or an outage: it is raised as it
is, and the HTTP layer logs it with its traceback and answers 500 with an incident id. Kept apart
from :mod:`signing.errors` so that naming signing's errors does not import pyHanko and pypdf.
"""

from __future__ import annotations

import zlib

from pyhanko.pdf_utils.misc import PdfError
from pyhanko_certvalidator import errors as cv_errors
from pypdf.errors import PyPdfError

PDF_READ_ERRORS: tuple[type[Exception], ...] = (
    PdfError,  # pyHanko's reader: PdfReadError, PdfStreamError, ObjectHeaderReadError…
    ValueError,  # numbers and names that do not parse; UnicodeDecodeError
    LookupError,  # a required key or array entry missing (PDF dictionaries are dicts)
    TypeError,  # an object of the wrong type where pyHanko indexes or compares it
    ArithmeticError,  # absurd numbers (overflow)
    zlib.error,  # a damaged FlateDecode stream
)
"""What pyHanko's PDF reader raises on a malformed or hostile file."""

SIGNATURE_ERRORS: tuple[type[Exception], ...] = (
    *PDF_READ_ERRORS,
    # pyHanko's CMS and validation errors (SignatureValidationError, CMSExtractionError…) and
    # asn1crypto's parse errors are ValueErrors, above
    AttributeError,  # pyHanko on an unknown encapsulated content type (no digest algorithm)
    AssertionError,  # pyHanko asserts the shape of a signature dictionary
    NotImplementedError,  # pyHanko and certvalidator: a feature the file demands is unsupported
    cv_errors.PathError,
    cv_errors.ValidationError,
    cv_errors.CRLValidationError,
    cv_errors.OCSPValidationError,
)
"""What pyHanko and pyhanko-certvalidator raise on a signature they cannot process: the verdict is
"error" (not valid), never a crash and never "fine"."""

PYPDF_ERRORS: tuple[type[Exception], ...] = (
    PyPdfError,
    ValueError,
    LookupError,
    TypeError,
    AttributeError,  # pypdf on objects of an unexpected type in content streams and fonts
    AssertionError,
    ArithmeticError,
    RecursionError,  # deeply nested content (pyHanko's own checks cover the page tree only)
    zlib.error,
)
"""What pypdf's text extraction raises on hostile content (it is used only to find the anchor)."""
