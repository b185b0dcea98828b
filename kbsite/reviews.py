"""Read the reviews' front matter: the one place a review's title, paper, tags and snippet are written.

Everything derived from reviews (the navigation, the reviews index) reads it through :func:`load_reviews`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = ["Review", "ReviewError", "load_reviews", "parse_front_matter", "read_front_matter", "split_front_matter"]

# libyaml's loader when PyYAML was built with it: the same result, several times faster on many reviews.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)---[ \t]*\n", re.DOTALL)


class ReviewError(ValueError):
    """A review's front matter is missing or unreadable; the message names the file."""


def split_front_matter(text: str) -> tuple[str | None, int]:
    """The YAML between the opening ``---`` lines (None when absent) and the number of lines the block takes."""
    match = _FRONT_MATTER.match(text)
    return (match.group(1), match.group(0).count("\n")) if match else (None, 0)


def parse_front_matter(yaml_text: str) -> Any:
    """The YAML of a front matter block; raises ``yaml.YAMLError`` when it is not valid YAML."""
    return yaml.load(yaml_text, Loader=_LOADER)  # noqa: S506 - a safe loader


def read_front_matter(path: Path) -> tuple[dict[str, Any], int]:
    """The YAML front matter of a Markdown file and the number of lines it takes (0 when absent)."""
    block, lines = split_front_matter(path.read_text(encoding="utf-8"))
    if block is None:
        return {}, 0
    try:
        data = parse_front_matter(block) or {}
    except yaml.YAMLError as exc:
        raise ReviewError(f"{path}: front matter is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ReviewError(f"{path}:2: front matter must be a mapping of fields, got {type(data).__name__}")
    return data, lines


@dataclass(frozen=True)
class Review:
    """One review page: its slug (the file name) and its front matter."""

    slug: str
    path: Path
    meta: dict[str, Any] = field(hash=False)

    @property
    def title(self) -> str:
        return str(self.meta.get("title", self.slug))

    @property
    def bibkey(self) -> str:
        return str(self.meta.get("bibkey", ""))

    @property
    def tags(self) -> list[str]:
        return [str(t) for t in self.meta.get("tags") or []]

    @property
    def snippet(self) -> str:
        return str(self.meta.get("snippet", f"snippets.{self.slug}"))


def load_reviews(docs_dir: Path) -> list[Review]:
    """Every ``docs/reviews/<slug>.md`` but the index, sorted by title."""
    reviews = []
    for path in sorted((docs_dir / "reviews").glob("*.md")):
        if path.name == "index.md":
            continue
        meta, _ = read_front_matter(path)
        reviews.append(Review(slug=path.stem, path=path, meta=meta))
    return sorted(reviews, key=lambda r: r.title.casefold())
