"""``make new-review``: create the files of a new review from the templates, all named after one slug.

Usage: ``python -m kbsite.scaffold SLUG KEY`` (``make new-review SLUG=fm KEY=rendle2010fm``). It writes
``docs/reviews/<slug>.md``, ``snippets/<slug>.py`` and ``tests/snippets/test_<slug>.py`` (the API page is generated
by the build), and appends a stub entry for KEY to ``bibliography.bib`` unless the key is already there. It never
overwrites a file: if any of the three files exists, it writes nothing and says which.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from kbsite.bibtex import read_bibtex
from kbsite.checker import KEY_FORMAT, RESERVED_SLUGS

__all__ = ["ScaffoldError", "scaffold"]

TEMPLATES = Path(__file__).parent / "templates"
SLUG_FORMAT = re.compile(r"^[a-z][a-z0-9_]*$")


class ScaffoldError(ValueError):
    """The slug or key is unusable, or a file already exists; nothing was written."""


def _render(template: str, slug: str, key: str) -> str:
    return (TEMPLATES / template).read_text(encoding="utf-8").replace("{slug}", slug).replace("{key}", key)


def scaffold(root: Path, slug: str, key: str) -> list[Path]:
    """Create the review's files under ``root`` and return the paths written (the .bib last, if appended)."""
    if not SLUG_FORMAT.match(slug):
        raise ScaffoldError(
            f"SLUG '{slug}': use lowercase letters, digits and '_', starting with a letter (e.g. electra)"
        )
    if slug in RESERVED_SLUGS:
        raise ScaffoldError(f"SLUG '{slug}' is a module of the standard library or a dependency; pick another")
    if not KEY_FORMAT.match(key):
        raise ScaffoldError(f"KEY '{key}': use authorYEARword, e.g. rendle2010fm")
    targets = {
        root / "docs" / "reviews" / f"{slug}.md": "review.md",
        root / "snippets" / f"{slug}.py": "snippet.py.tmpl",
        root / "tests" / "snippets" / f"test_{slug}.py": "test.py.tmpl",
    }
    existing = [p for p in targets if p.exists()]
    if existing:
        names = ", ".join(p.relative_to(root).as_posix() for p in existing)
        raise ScaffoldError(f"refusing to overwrite existing file(s): {names}. Nothing was written.")
    written = []
    for path, template in targets.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8") as handle:  # "x" fails rather than overwrite
            handle.write(_render(template, slug, key))
        written.append(path)
    bib = root / "bibliography.bib"
    text = bib.read_text(encoding="utf-8") if bib.exists() else ""
    if key not in read_bibtex(bib).by_key:
        with bib.open("a", encoding="utf-8") as handle:
            handle.write(("" if text.endswith("\n") or not text else "\n") + _render("bib.txt", slug, key))
        written.append(bib)
    return written


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or not all(args):
        print(
            "usage: make new-review SLUG=<slug> KEY=<authorYEARword>   e.g. make new-review SLUG=bert "
            "KEY=devlin2019bert",
            file=sys.stderr,
        )
        return 2
    root = Path.cwd()
    try:
        written = scaffold(root, args[0], args[1])
    except ScaffoldError as exc:
        print(f"new-review: {exc}", file=sys.stderr)
        return 1
    for path in written:
        print(f"{'appended' if path.name == 'bibliography.bib' else 'created '} {path.relative_to(root).as_posix()}")
    print("Next: replace every TODO (make check lists them with file and line), then run make test.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
