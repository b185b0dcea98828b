"""Read the reviews: the one front-matter reader and the one list of reviews.

A review's front matter is the only place its title, paper, topic, tags and snippet are written. Everything
derived from reviews (the navigation, the reviews index, the paper card, the checker, the search test) reads it
through :func:`read_front_matter` and :func:`load_reviews`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kbsite.problems import Problem

__all__ = [
    "TOPICS",
    "FrontMatter",
    "Review",
    "field_line",
    "load_reviews",
    "read_front_matter",
    "topic_slug",
]

# The controlled list of topics (front matter ``topic``), in the order the Reviews section shows them, each with
# the sentence its topic page opens with. A new topic is added here, in one place.
TOPICS: dict[str, str] = {
    "language models": "Pre-trained language models and the objectives they are trained with.",
    "attention and sequence models": "Attention and the sequence-to-sequence architectures built on it.",
    "generative models": "Latent-variable models that generate data.",
    "recommender systems": "Models that predict what a user will like from sparse interaction data.",
}

# libyaml's loader when PyYAML was built with it: the same result, several times faster on many reviews.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)---[ \t]*\n", re.DOTALL)


def topic_slug(topic: str) -> str:
    """``"language models"`` -> ``"language-models"``: the topic page's folder."""
    return re.sub(r"[^a-z0-9]+", "-", topic.lower()).strip("-")


@dataclass(frozen=True)
class FrontMatter:
    """A Markdown file's front matter.

    Attributes:
        data: the fields; empty when the file has none or it is unreadable.
        lines: how many lines the block takes, its ``---`` lines included (0 when absent).
        present: whether the file starts with a ``---`` block.
        problem: why the block could not be read, or None.
    """

    data: dict[str, Any]
    lines: int
    present: bool
    problem: Problem | None = None


def read_front_matter(text: str, path: str) -> FrontMatter:
    """The YAML front matter of a Markdown file's ``text``; ``path`` names the file in a problem."""
    match = _FRONT_MATTER.match(text)
    if match is None:
        return FrontMatter({}, 0, False)
    lines = match.group(0).count("\n")
    try:
        data = yaml.load(match.group(1), Loader=_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        reason = str(exc).replace("\n", " ")
        return FrontMatter(
            {},
            lines,
            True,
            Problem(path, 1, f"front matter is not valid YAML ({reason})", "fix the YAML between the --- lines"),
        )
    if data is None:
        data = {}
    if not isinstance(data, dict):
        return FrontMatter(
            {},
            lines,
            True,
            Problem(
                path,
                2,
                f"front matter must be a mapping of fields, got {type(data).__name__}",
                "write one 'name: value' per line",
            ),
        )
    return FrontMatter(data, lines, True)


def field_line(text: str, name: str) -> int:
    """The line of ``name:`` in the front matter of ``text`` (1 when the field is not written there)."""
    for number, line in enumerate(text.splitlines()[1:], start=2):
        if line.strip() == "---":
            break
        if re.match(rf"^{re.escape(name)}\s*:", line):
            return number
    return 1


@dataclass(frozen=True)
class Review:
    """One review page: its slug (the file name), where it is, its text and its front matter."""

    slug: str
    path: Path
    rel: str
    text: str = field(repr=False)
    front: FrontMatter = field(repr=False)

    @property
    def meta(self) -> dict[str, Any]:
        return self.front.data

    @property
    def title(self) -> str:
        return str(self.meta.get("title", self.slug))

    @property
    def bibkey(self) -> str:
        return str(self.meta.get("bibkey", ""))

    @property
    def topic(self) -> str:
        return str(self.meta.get("topic", ""))

    @property
    def tags(self) -> list[str]:
        return [str(t) for t in self.meta.get("tags") or []]

    @property
    def key_terms(self) -> list[str]:
        return [str(t) for t in self.meta.get("key_terms") or []]

    @property
    def module(self) -> str:
        """The snippet module's name in the ``snippets`` package (front matter ``snippet``; the slug by default)."""
        snippet = self.meta.get("snippet")
        name = snippet.removeprefix("snippets.") if isinstance(snippet, str) and snippet.strip() else self.slug
        return name if re.fullmatch(r"[a-z_][a-z0-9_]*", name) else self.slug

    @property
    def related(self) -> list[dict[str, str]]:
        """The ``related`` entries that are well formed ({slug, relation}); the checker reports the others."""
        items = self.meta.get("related") or []
        if not isinstance(items, list):
            return []
        return [
            {"slug": str(r["slug"]), "relation": str(r.get("relation", "related"))}
            for r in items
            if isinstance(r, dict) and "slug" in r
        ]


def load_reviews(root: Path, docs_dir: Path | None = None) -> list[Review]:
    """Every ``docs/reviews/<slug>.md`` of the project at ``root`` but the index, sorted by title.

    Files that are not UTF-8 are left out (the checker reports them); a broken front matter gives a review with
    empty fields and its problem in ``front.problem``.
    """
    docs = docs_dir or root / "docs"
    reviews = []
    for path in sorted((docs / "reviews").glob("*.md")):
        if path.name == "index.md":
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        rel = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.as_posix()
        reviews.append(Review(path.stem, path, rel, text, read_front_matter(text, rel)))
    return sorted(reviews, key=lambda r: r.title.casefold())
