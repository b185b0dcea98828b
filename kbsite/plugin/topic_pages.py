"""One generated page per topic (``topics/<topic>/index.md``): what the topic covers and its reviews.

The topics are the controlled list :data:`kbsite.reviews.TOPICS`; a review names its topic in front matter.
"""

from __future__ import annotations

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File

from kbsite.plugin.generated import generated_page
from kbsite.reviews import TOPICS, Review, topic_slug

__all__ = ["topic_files", "topic_title", "topic_uri", "topics_of"]


def topic_title(topic: str) -> str:
    return topic[:1].upper() + topic[1:]


def topic_uri(topic: str) -> str:
    return f"topics/{topic_slug(topic)}/index.md"


def topics_of(reviews: list[Review]) -> dict[str, list[Review]]:
    """The reviews of each topic that has any, topics in the order of ``TOPICS`` (unknown topics last)."""
    order = {topic: i for i, topic in enumerate(TOPICS)}
    out: dict[str, list[Review]] = {}
    for review in reviews:
        out.setdefault(review.topic or "other", []).append(review)
    return dict(sorted(out.items(), key=lambda item: (order.get(item[0], len(order)), item[0])))


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|")


def _row(review: Review) -> str:
    link = f"[{_cell(review.title)}](../../reviews/{review.slug}.md)"
    return f"| {link} | {_cell(review.meta.get('year', ''))} | {_cell(review.meta.get('venue', ''))} |"


def topic_markdown(topic: str, reviews: list[Review]) -> str:
    lines = [
        f"# {topic_title(topic)}",
        "",
        TOPICS.get(topic, ""),
        "",
        f"{len(reviews)} review{'s' if len(reviews) != 1 else ''}. The [reviews index](../../reviews/index.md) "
        "filters every review by topic, tag, venue and year.",
        "",
        "| Review | Year | Venue |",
        "|---|---|---|",
    ]
    return "\n".join(lines + [_row(r) for r in reviews]) + "\n"


def topic_files(reviews: list[Review], config: MkDocsConfig) -> list[File]:
    """One page per topic, rendered again by a dirty build only when one of its reviews changed."""
    return [
        generated_page(config, topic_uri(topic), topic_markdown(topic, members), [r.path for r in members])
        for topic, members in topics_of(reviews).items()
    ]
