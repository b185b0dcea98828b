"""Split each vendored KaTeX font in two by Unicode range, and write the stylesheet the site serves for KaTeX.

A browser downloads a web font only when a page has text in that font whose characters fall in the font's
``unicode-range``. KaTeX sets most of its letters and digits (blackboard bold, bold, calligraphic, italic...) as
ASCII characters in a dedicated font, and its symbols (Greek, relations, operators, large delimiters) outside ASCII.
So every font in ``docs/assets/katex/fonts/`` (KaTeX's woff2 files, as released) is split into

* ``docs/assets/katex/split/<name>.ascii.woff2``: the glyphs of ASCII and the no-break space
  (``Main-Regular.ascii.woff2``...);
* ``docs/assets/katex/split/<name>.more.woff2``: all the others,

and ``docs/assets/katex/katex.css`` is KaTeX's ``katex.min.css`` with its ``@font-face`` rules replaced by one rule
per part, each with its ``unicode-range``. Together the two parts hold every glyph of the original, hinting and
metrics unchanged (``tests/site/test_katex_fonts.py`` checks it), so a page renders exactly as with the whole font;
a review whose only blackboard-bold letter is R downloads 8 kB of KaTeX_AMS instead of 28 kB.

The fonts are KaTeX's, under the SIL Open Font License 1.1 with Reserved Font Names (``KaTeX_Main``...). The parts
are Modified Versions: they keep the copyright and licence records of the original and are renamed inside
(``KaTeX_`` becomes ``KBMath_`` in the family and full names), so they do not present a Reserved Font Name to users.
The stylesheet still calls the families ``KaTeX_...``, the identifiers KaTeX's HTML refers to.

Run ``python scripts/katex_fonts.py`` after replacing the vendored KaTeX (it needs fontTools and brotli, both pinned
test dependencies); the output is deterministic.
"""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KATEX = ROOT / "docs" / "assets" / "katex"
FONTS = KATEX / "fonts"  # the fonts as KaTeX releases them (not published)
SPLIT = KATEX / "split"
VENDOR_CSS = KATEX / "katex.min.css"  # as KaTeX releases it (not published)
SITE_CSS = KATEX / "katex.css"
# The two parts: (suffix, CSS unicode-range, test for a code point).
# The no-break space goes with ASCII: KaTeX writes it for spaces in text (``\\ ``, ``\\text{a b}``), in any font.
PARTS = (
    ("ascii", "U+0000-007F,U+00A0", lambda cp: cp <= 0x7F or cp == 0xA0),
    ("more", "U+0080-009F,U+00A1-10FFFF", lambda cp: cp > 0x7F and cp != 0xA0),
)
_FONT_FACE = re.compile(r"@font-face\{[^}]*\}")
_NAME_IDS_RENAMED = (1, 3, 4, 6, 16, 17, 18, 21)


def _stem(woff2: str) -> str:
    """``KaTeX_Main-Regular.woff2`` -> ``Main-Regular``: the parts' files do not carry the Reserved Font Name."""
    return woff2.removeprefix("KaTeX_").removesuffix(".woff2")


def font_faces(css: str) -> list[dict[str, str]]:
    """The ``@font-face`` rules of KaTeX's stylesheet: family, style, weight and the woff2 file."""
    faces = []
    for rule in _FONT_FACE.findall(css):
        props = dict(re.findall(r"([a-z-]+):([^;}]+)", rule))
        woff2 = re.search(r"url\(fonts/([^)]+\.woff2)\)", rule)
        if woff2 is None:
            raise ValueError(f"an @font-face rule of {VENDOR_CSS.name} has no woff2 source: {rule}")
        faces.append(
            {
                "family": props["font-family"],
                "style": props["font-style"],
                "weight": props["font-weight"],
                "display": props.get("font-display", "block"),
                "file": woff2.group(1),
            }
        )
    return faces


def site_css(vendor_css: str, parts: dict[str, list[str]]) -> str:
    """KaTeX's stylesheet with one ``@font-face`` per existing part instead of its own rules.

    Args:
        vendor_css: the text of ``katex.min.css``.
        parts: for each woff2 file of KaTeX, the suffixes of its parts that exist (``["ascii", "more"]``).
    """
    rules = []
    for face in font_faces(vendor_css):
        stem = _stem(face["file"])
        for suffix, urange, _ in PARTS:
            if suffix in parts.get(face["file"], []):
                rules.append(
                    f"@font-face{{font-display:{face['display']};font-family:{face['family']};"
                    f"font-style:{face['style']};font-weight:{face['weight']};"
                    f'src:url(split/{stem}.{suffix}.woff2) format("woff2");unicode-range:{urange}}}'
                )
    body = _FONT_FACE.sub("", vendor_css)
    header = (
        "/* KaTeX's katex.min.css with its @font-face rules replaced: each font is split in two by Unicode range"
        " (scripts/katex_fonts.py writes this file). */\n"
    )
    return header + "".join(rules) + body


def split_font(path: Path) -> dict[str, bytes]:
    """The parts of one woff2 font that have glyphs, as woff2 bytes keyed by suffix."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    codepoints = set(TTFont(path).getBestCmap())
    out = {}
    for suffix, _, keep in PARTS:
        wanted = sorted(cp for cp in codepoints if keep(cp))
        if not wanted:
            continue
        font = TTFont(path)
        options = subset.Options()
        options.flavor = "woff2"
        options.layout_features = ["*"]
        options.name_IDs = ["*"]
        options.name_languages = ["*"]
        options.notdef_outline = True
        options.recalc_timestamp = False
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=wanted)
        subsetter.subset(font)
        for record in font["name"].names:
            if record.nameID in _NAME_IDS_RENAMED:
                record.string = str(record).replace("KaTeX_", "KBMath_")
        buffer = io.BytesIO()
        font.flavor = "woff2"
        font.save(buffer)
        out[suffix] = buffer.getvalue()
    return out


def main() -> int:
    vendor_css = VENDOR_CSS.read_text(encoding="utf-8")
    SPLIT.mkdir(exist_ok=True)
    for old in SPLIT.glob("*.woff2"):
        old.unlink()
    parts: dict[str, list[str]] = {}
    for face in font_faces(vendor_css):
        stem = _stem(face["file"])
        pieces = split_font(FONTS / face["file"])
        for suffix, data in pieces.items():
            (SPLIT / f"{stem}.{suffix}.woff2").write_bytes(data)
        parts[face["file"]] = list(pieces)
        sizes = ", ".join(f"{s} {len(d) / 1000:.1f} kB" for s, d in pieces.items())
        print(f"{face['file']}: {(FONTS / face['file']).stat().st_size / 1000:.1f} kB -> {sizes}")
    SITE_CSS.write_text(site_css(vendor_css, parts), encoding="utf-8")
    print(f"wrote {SITE_CSS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
