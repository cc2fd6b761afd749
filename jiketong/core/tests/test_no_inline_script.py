"""The Content-Security-Policy forbids inline scripts (docs/security.md): no template may carry an inline event
handler or a <script> without src. The browser walk (tests_browser/test_csp.py) sees the menu pages; this sees
every template, including the pages behind a filter or a record."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)


def test_no_template_has_an_inline_handler_or_script():
    found = []
    for path in sorted(ROOT.glob("**/templates/**/*.html")):
        text = path.read_text(encoding="utf-8")
        for pattern in (HANDLER, INLINE_SCRIPT):
            found += [f"{path.relative_to(ROOT)}: {m.group(0)[:60]}" for m in pattern.finditer(text)]
    assert found == []
