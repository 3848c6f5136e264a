"""Loads the education content shipped in education/content/ (Markdown with TOML front matter).

Used by the data migration that ships the initial content (with historical models) and by
tests; idempotent: existing rows are matched by slug (question for FAQs) and updated.
"""

import datetime
import tomllib
from pathlib import Path

CONTENT_DIR = Path(__file__).resolve().parent / "content"
# Until the clinic's medical director signs the pages off in the admin, the review line says
# truthfully what was done: drafted and checked against the cited sources on this date.
SHIPPED_REVIEWED_ON = datetime.date(2026, 11, 25)
SHIPPED_REVIEWED_BY = "the content team, checked against the cited sources"


def read_entry(path: Path) -> tuple[dict, str]:
    _, front_matter, body = path.read_text(encoding="utf-8").split("+++", 2)
    return tomllib.loads(front_matter), body.strip() + "\n"


def entries(kind: str) -> list[tuple[str, dict, str]]:
    return [(path.stem, *read_entry(path)) for path in sorted((CONTENT_DIR / kind).glob("*.md"))]


def review_fields(meta: dict) -> dict:
    return {
        "order": meta["order"],
        "published": True,
        "references": "\n".join(meta["references"]),
        "reviewed_on": SHIPPED_REVIEWED_ON,
        "reviewed_by": SHIPPED_REVIEWED_BY,
    }


def load_content(*, article_model, condition_model, faq_model) -> None:
    articles = {}
    for slug, meta, body in entries("articles"):
        articles[slug], _ = article_model.objects.update_or_create(
            slug=slug,
            defaults={
                "title": meta["title"],
                "summary": meta["summary"],
                "category": meta["category"],
                "body": body,
                **review_fields(meta),
            },
        )
    for slug, meta, body in entries("conditions"):
        condition, _ = condition_model.objects.update_or_create(
            slug=slug,
            defaults={
                "name": meta["name"],
                "summary": meta["summary"],
                "evidence_note": meta["evidence_note"],
                "body": body,
                **review_fields(meta),
            },
        )
        condition.related_articles.set([articles[related] for related in meta.get("related", [])])
    for _, meta, body in entries("faq"):
        faq_model.objects.update_or_create(question=meta["question"], defaults={"answer": body, **review_fields(meta)})
