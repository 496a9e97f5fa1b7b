"""The knowledge base (知识库): articles in the read model, seeded from the city's starter file,
edited through the API, searched with jieba + BM25 (domain.intake.textsearch)."""

import threading
import tomllib

from sqlalchemy import func
from sqlmodel import Session, col, select

from catalog.cities import CITIES_DIR
from domain.intake.textsearch import TextIndex
from domain.intake.triage import Article
from readmodel import db
from readmodel.tables import KnowledgeArticleRow, utcnow


def document(row: KnowledgeArticleRow) -> str:
    """What a search matches against: title, the typical question and the keywords."""
    return f"{row.title} {row.question} {row.keywords}"


def seed(url: str, city: str) -> int:
    """Add the city's starter articles that are not there yet; never overwrite the center's edits."""
    path = CITIES_DIR / city / "knowledge.toml"
    if not path.is_file():
        return 0
    with path.open("rb") as f:
        articles = tomllib.load(f).get("article", [])
    added = 0
    with db.session(url) as session:
        for a in articles:
            if session.get(KnowledgeArticleRow, a["id"]) is None:
                session.add(
                    KnowledgeArticleRow(
                        id=a["id"],
                        title=a["title"],
                        question=a.get("question", ""),
                        keywords=" ".join(a.get("keywords", [])),
                        answer=a["answer"],
                        category=a.get("category"),
                    )  # fmt: skip
                )
                added += 1
        session.commit()
    return added


_lock = threading.Lock()
_cache: dict[str, tuple[tuple, TextIndex, dict[str, Article]]] = {}


def index(session: Session) -> tuple[TextIndex, dict[str, Article]]:
    """The search index of the active articles, rebuilt only when an article changed."""
    database = session.get_bind().engine.url.render_as_string()
    signature = tuple(
        session.exec(
            select(func.count(), func.max(KnowledgeArticleRow.updated_at), func.sum(KnowledgeArticleRow.version))
        ).one()
    )
    with _lock:
        cached = _cache.get(database)
        if cached and cached[0] == signature:
            return cached[1], cached[2]
    rows = session.exec(select(KnowledgeArticleRow).where(KnowledgeArticleRow.active)).all()
    built = TextIndex([(r.id, document(r)) for r in rows])
    articles = {r.id: Article(id=r.id, title=r.title, answer=r.answer) for r in rows}
    with _lock:
        _cache[database] = (signature, built, articles)
    return built, articles


# -- editing (the center keeps the knowledge base current through the API) ----------------------


class Conflict(Exception):
    pass


def get(session: Session, article_id: str) -> KnowledgeArticleRow | None:
    return session.get(KnowledgeArticleRow, article_id)


def listing(
    session: Session, category: str | None, include_inactive: bool, page: int, page_size: int
) -> tuple[int, list[KnowledgeArticleRow]]:
    query = select(KnowledgeArticleRow)
    if category:
        query = query.where(KnowledgeArticleRow.category == category)
    if not include_inactive:
        query = query.where(KnowledgeArticleRow.active)
    return db.page(session, query.order_by(KnowledgeArticleRow.id), page, page_size)


def search(session: Session, q: str, limit: int) -> list[tuple[KnowledgeArticleRow, float, tuple[str, ...]]]:
    """Active articles matching `q`, best first, with the share of their words found and which."""
    built, _ = index(session)
    hits = built.search(q, limit)
    found = session.exec(
        select(KnowledgeArticleRow).where(col(KnowledgeArticleRow.id).in_([h.key for h in hits]))
    ).all()
    rows = {r.id: r for r in found}
    return [(rows[h.key], h.coverage, h.matched) for h in hits if h.key in rows]


def create(session: Session, row: KnowledgeArticleRow) -> KnowledgeArticleRow:
    if session.get(KnowledgeArticleRow, row.id) is not None:
        raise Conflict(f"article {row.id!r} already exists (edit it with PUT)")
    session.add(row)
    session.commit()
    return row


def change(
    session: Session, article_id: str, fields: dict, expected_version: int | None, by: str
) -> KnowledgeArticleRow | None:
    """Apply an edit; `expected_version` guards against overwriting a colleague's newer edit."""
    row = session.get(KnowledgeArticleRow, article_id)
    if row is None:
        return None
    if expected_version is not None and expected_version != row.version:
        raise Conflict(
            f"article {article_id!r} is at version {row.version}, not {expected_version}: reload and edit again"
        )
    for name, value in fields.items():
        setattr(row, name, value)
    row.version += 1
    row.updated_by = by
    row.updated_at = utcnow()
    session.add(row)
    session.commit()
    return row
