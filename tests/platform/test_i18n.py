"""Every visible text goes through the catalogue: both languages for every key, no Vietnamese
(or other visible) literal left in the templates, the scripts or the page code, and a phrase for
every audit action the code base writes.

The rendered pages are checked in a real browser by ``test_i18n_browser.py``.
"""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from meetings.briefings.service import AUDITED_CHAIR_ACTIONS
from web import i18n
from web.briefings import texts as briefing_texts
from web.documents import texts as document_texts
from web.sessions import texts as session_texts
from web.sessions.texts_devices import DEVICE_TEXTS
from web.shell.audit_labels import ACTIONS
from web.signing import texts as signing_texts
from web.subject import FIELDS

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
VI_CHARS = "àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ"
VIETNAMESE = re.compile(f"[{VI_CHARS}{VI_CHARS.upper()}]")

CATALOGUES = {
    "web/i18n.py": i18n.TEXTS,
    "web/documents/texts.py": document_texts.TEXTS,
    "web/sessions/texts.py": session_texts.TEXTS,
    "web/sessions/texts_devices.py": DEVICE_TEXTS,
    "web/signing/texts.py": signing_texts.TEXTS,
    "web/briefings/texts.py": briefing_texts.TEXTS,
    "web/shell/audit_labels.py": ACTIONS,
    "web/subject.py": FIELDS,
}


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("name", sorted(CATALOGUES))
def test_every_key_has_both_languages_with_the_same_placeholders(name: str) -> None:
    for key, pair in CATALOGUES[name].items():
        assert len(pair) == 2, key
        vi, en = pair
        assert vi.strip() and en.strip(), f"{name}: {key} has an empty translation"
        assert _fields(vi) == _fields(en), f"{name}: {key} fills different values"
        # an English text with Vietnamese letters is a copy left untranslated (names excepted)
        if name != "web/i18n.py" or key not in {"app.name", "lang.switch"}:
            assert not VIETNAMESE.search(en), f"{name}: {key} English text is Vietnamese: {en}"


# ------------------------------------------------------------------ templates

JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
STRING = re.compile(r"\"([^\"\\]*(?:\\.[^\"\\]*)*)\"|'([^'\\]*(?:\\.[^'\\]*)*)'")


def _template_problems(path: Path) -> list[str]:
    source = path.read_text(encoding="utf-8")
    problems = []
    # literal text outside Jinja tags
    outside = JINJA.sub(" ", source)
    outside = re.sub(r"<!--.*?-->", " ", outside, flags=re.S)
    for line in outside.splitlines():
        if VIETNAMESE.search(line):
            problems.append(f"text: {line.strip()}")
    # string literals inside Jinja expressions ({{ "Gốc tin cậy" if ... }})
    for tag in JINJA.findall(source):
        for m in STRING.finditer(tag):
            literal = m.group(1) or m.group(2) or ""
            if VIETNAMESE.search(literal):
                problems.append(f"literal: {literal}")
    return problems


TEMPLATES = sorted((WEB / "templates").rglob("*.html"))


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(WEB)))
def test_templates_have_no_literal_vietnamese(path: Path) -> None:
    assert _template_problems(path) == []


def test_the_template_check_finds_a_literal(tmp_path: Path) -> None:
    bad = tmp_path / "bad.html"
    bad.write_text('<h1>Hội nghị</h1>{{ "Gốc tin cậy" if x }}{{ t["ok"] }}', encoding="utf-8")
    assert len(_template_problems(bad)) == 2


# ------------------------------------------------------------------ scripts

BILINGUAL_SCRIPTS = {"signing/agent.js"}
"""Scripts with their own two-language table chosen by ``<html lang>``: the signing agent's
messages, shared by the documents' and the minutes' signing pages."""

JS_COMMENT = re.compile(r"/\*.*?\*/|^\s*//.*?$|\s//\s.*?$", re.S | re.M)


def _script_problems(path: Path) -> list[str]:
    code = JS_COMMENT.sub("", path.read_text(encoding="utf-8"))
    return [line.strip() for line in code.splitlines() if VIETNAMESE.search(line)]


SCRIPTS = [
    p
    for p in sorted((WEB / "static").rglob("*.js"))
    if "vendor" not in p.parts and str(p.relative_to(WEB / "static")) not in BILINGUAL_SCRIPTS
]


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: str(p.relative_to(WEB)))
def test_scripts_take_their_texts_from_the_page(path: Path) -> None:
    assert _script_problems(path) == []


def test_the_bilingual_script_has_both_languages() -> None:
    source = (WEB / "static" / "signing" / "agent.js").read_text(encoding="utf-8")
    vi = re.search(r"\n  vi: \{(.*?)\n  \},", source, re.S)
    en = re.search(r"\n  en: \{(.*?)\n  \},", source, re.S)
    assert vi and en
    keys = re.compile(r"^    (\w+):", re.M)
    assert set(keys.findall(vi.group(1))) == set(keys.findall(en.group(1)))
    assert not VIETNAMESE.search(en.group(1))


# ------------------------------------------------------------------ page code

CATALOGUE_FILES = {ROOT / name for name in CATALOGUES}
VI_KEYWORDS = {"detail_vi", "summary_vi"}


def _python_problems(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    allowed: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            allowed.add(id(body[0].value))  # docstrings
        if isinstance(node, ast.keyword) and node.arg in VI_KEYWORDS:
            allowed.update(id(n) for n in ast.walk(node.value))
        if isinstance(node, ast.Call):  # BadField(field, english, vietnamese)
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            if name == "BadField" and len(node.args) == 3:
                allowed.update(id(n) for n in ast.walk(node.args[2]))
    return [
        n.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant)
        and isinstance(n.value, str)
        and VIETNAMESE.search(n.value)
        and id(n) not in allowed
    ]


PAGE_CODE = [p for p in sorted(WEB.rglob("*.py")) if p not in CATALOGUE_FILES]


@pytest.mark.parametrize("path", PAGE_CODE, ids=lambda p: str(p.relative_to(WEB)))
def test_page_code_has_no_literal_vietnamese(path: Path) -> None:
    assert _python_problems(path) == []


def test_the_page_code_check_finds_a_literal(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        '"""Trang."""\nx = "Đã lưu"\nraise E("Saved", detail_vi="Đã lưu")\n', encoding="utf-8"
    )
    assert _python_problems(bad) == ["Đã lưu"]


# ------------------------------------------------------------------ the audit log in words

CODE_DIRS = ("server", "documents", "meetings", "signing", "web", "lienthong")
LITERAL_ACTION = re.compile(
    r"(?:append_txn\(\s*session,\s*|_audit\(\s*session,\s*p,\s*)"
    r"(?:\"(?P<code>[a-z_]+\.[a-z_]+)\"|(?P<other>[^\s,]+))"
)
CONDITIONAL_ACTION = re.compile(r"\"([a-z_]+\.[a-z_]+)\" if .*? else \"([a-z_]+\.[a-z_]+)\"")


def _written_actions() -> tuple[set[str], set[str]]:
    """Codes written literally anywhere, and where a code is computed (``file: expression``)."""
    codes: set[str] = set()
    computed: set[str] = set()
    for top in CODE_DIRS:
        for path in (ROOT / top).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            rel = str(path.relative_to(ROOT))
            for m in LITERAL_ACTION.finditer(text):
                if m.group("code"):
                    codes.add(m.group("code"))
                else:
                    computed.add(f"{rel}: {m.group('other')}")
            for m in CONDITIONAL_ACTION.finditer(text):
                codes.update(m.groups())
            # an action variable set from a literal just before the call
            for m in re.finditer(
                r"action = \"([a-z_]+\.[a-z_]+)\"(?: if .*? else \"([a-z_]+\.[a-z_]+)\")?", text
            ):
                codes.update(c for c in m.groups() if c)
    return codes, computed


def _computed_codes() -> set[str]:
    """The codes each computed call site can write, read from the tables it uses."""
    from documents.status_flow import _AUDIT_ACTION

    return {
        *_AUDIT_ACTION.values(),
        "document.status",  # status_flow's default
        *(f"briefing.{a}" for a in AUDITED_CHAIR_ACTIONS),
        *(f"user.certificate_{s}" for s in ("approved", "revoked")),
    }


KNOWN_COMPUTED = {
    "server/auth/service.py: action",
    "server/api/certificates.py: action",
    "documents/status_flow.py: action",
    "documents/drafts.py: action",
    'meetings/briefings/service.py: f"briefing.{action}"',
    'server/api/certificates.py: f"user.certificate_{status}"',
}


def test_every_audit_action_written_has_a_phrase() -> None:
    codes, computed = _written_actions()
    assert len(codes) > 40  # the scan does find the call sites
    assert computed <= KNOWN_COMPUTED, f"a new computed action code: {computed - KNOWN_COMPUTED}"
    missing = sorted((codes | _computed_codes()) - set(ACTIONS))
    assert missing == [], f"audit actions without a phrase in web/shell/audit_labels.py: {missing}"
