"""KaTeX's fonts split by Unicode range (scripts/katex_fonts.py): nothing lost, nothing renamed wrongly, CSS current."""

from __future__ import annotations

import importlib.util
import re

import pytest
from fontTools.ttLib import TTFont

from tests.helpers import ROOT

_spec = importlib.util.spec_from_file_location("katex_fonts", ROOT / "scripts" / "katex_fonts.py")
katex_fonts = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(katex_fonts)

FACES = katex_fonts.font_faces(katex_fonts.VENDOR_CSS.read_text(encoding="utf-8"))


def _parts(face: dict[str, str]) -> dict[str, TTFont]:
    stem = katex_fonts._stem(face["file"])
    return {
        suffix: TTFont(katex_fonts.SPLIT / f"{stem}.{suffix}.woff2")
        for suffix, _, _ in katex_fonts.PARTS
        if (katex_fonts.SPLIT / f"{stem}.{suffix}.woff2").is_file()
    }


def test_every_font_of_katex_css_is_split() -> None:
    assert len(FACES) == 20
    for face in FACES:
        assert "ascii" in _parts(face), face["file"]
    written = {p.name for p in katex_fonts.SPLIT.glob("*.woff2")}
    expected = {f"{katex_fonts._stem(f['file'])}.{s}.woff2" for f in FACES for s in _parts(f)}
    assert written == expected  # no stale part left behind


@pytest.mark.parametrize("face", FACES, ids=lambda f: f["file"])
def test_parts_hold_every_glyph_of_the_font_once_and_within_their_range(face: dict[str, str]) -> None:
    original = TTFont(katex_fonts.FONTS / face["file"])
    whole = original.getBestCmap()
    seen: dict[int, str] = {}
    for suffix, part in _parts(face).items():
        keep = next(k for s, _, k in katex_fonts.PARTS if s == suffix)
        cmap = part.getBestCmap()
        assert all(keep(cp) for cp in cmap), suffix
        for cp, glyph in cmap.items():
            assert cp not in seen, f"U+{cp:04X} in two parts"
            seen[cp] = suffix
            # Same outline and advance as in the original font.
            assert part["hmtx"][glyph] == original["hmtx"][whole[cp]], f"U+{cp:04X}"
            assert (
                part["glyf"][glyph].getCoordinates(part["glyf"])[0]
                == original["glyf"][whole[cp]].getCoordinates(original["glyf"])[0]
            ), f"U+{cp:04X}"
        # Vertical metrics decide line boxes: unchanged.
        for table, fields in (
            ("hhea", ("ascent", "descent", "lineGap")),
            ("OS/2", ("sTypoAscender", "sTypoDescender", "usWinAscent", "usWinDescent")),
        ):
            for name in fields:
                assert getattr(part[table], name) == getattr(original[table], name), (suffix, table, name)
    assert set(seen) == set(whole)


@pytest.mark.parametrize("face", FACES[:3], ids=lambda f: f["file"])
def test_parts_keep_the_licence_and_drop_the_reserved_font_name(face: dict[str, str]) -> None:
    original = TTFont(katex_fonts.FONTS / face["file"])
    for part in _parts(face).values():
        for name_id in (0, 13, 14):  # copyright, licence, licence URL
            assert part["name"].getDebugName(name_id) == original["name"].getDebugName(name_id)
        for name_id in (1, 4, 6):  # family, full and PostScript names
            name = part["name"].getDebugName(name_id)
            assert name.startswith("KBMath_") and "KaTeX" not in name, name


def test_site_css_is_what_the_script_writes() -> None:
    parts = {f["file"]: list(_parts(f)) for f in FACES}
    expected = katex_fonts.site_css(katex_fonts.VENDOR_CSS.read_text(encoding="utf-8"), parts)
    assert katex_fonts.SITE_CSS.read_text(encoding="utf-8") == expected, "run: python scripts/katex_fonts.py"
    css = katex_fonts.SITE_CSS.read_text(encoding="utf-8")
    # Only woff2, only the split fonts, each with its range; KaTeX's rules otherwise untouched.
    assert re.findall(r"url\(([^)]+)\)", css) == [
        f"split/{katex_fonts._stem(f['file'])}.{s}.woff2" for f in FACES for s in parts[f["file"]]
    ]
    assert css.count("unicode-range:") == css.count("@font-face{")
    vendor = katex_fonts.VENDOR_CSS.read_text(encoding="utf-8")
    assert re.sub(r"@font-face\{[^}]*\}", "", vendor) in css
