"""The knowledge base (知识库): what the desk answers consultations with at intake. Everyone
signed in reads and searches it; the center and its supervisors keep it current. A withdrawn
article stays (tickets answered from it name it) but no longer answers new requests."""

import re
from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, Field, field_validator
from sqlmodel import Session

from api.deps import ActorDep, EditorActor, SessionDep
from api.errors import ApiError, not_found
from api.params import PageNumber, PageSize
from api.views import Page
from readmodel import db, knowledge
from readmodel.db import aware
from readmodel.tables import KnowledgeArticleRow

router = APIRouter(prefix="/knowledge", tags=["knowledge base"])

_ID = re.compile(r"^[a-z0-9][a-z0-9_]{1,79}$")


class ArticleFields(BaseModel):
    title: str = Field(min_length=2, max_length=200)
    question: str = Field(default="", max_length=500, description="a typical way citizens ask it")
    keywords: list[str] = Field(default=[], max_length=30, description="words specific to the topic")
    answer: str = Field(min_length=2, max_length=8000, description="the answer the desk gives")
    category: str | None = Field(default=None, max_length=80)

    @field_validator("title", "answer")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be blank")
        return v.strip()


class NewArticle(ArticleFields):
    id: str = Field(description="stable ascii id, lower case with underscores, e.g. housing_fund_withdrawal")

    @field_validator("id")
    @classmethod
    def _slug(cls, v: str) -> str:
        if not _ID.match(v):
            raise ValueError("id must be 2-80 characters of a-z, 0-9 and _, starting with a letter or digit")
        return v


class ArticleEdit(BaseModel):
    """Only the fields sent change; `version` (from GET) refuses an edit made on a stale copy."""

    title: str | None = Field(default=None, min_length=2, max_length=200)
    question: str | None = Field(default=None, max_length=500)
    keywords: list[str] | None = Field(default=None, max_length=30)
    answer: str | None = Field(default=None, min_length=2, max_length=8000)
    category: str | None = Field(default=None, max_length=80)
    active: bool | None = None
    version: int | None = None


class ArticleView(BaseModel):
    id: str
    title: str
    question: str
    keywords: list[str]
    answer: str
    category: str | None
    active: bool
    version: int
    updated_by: str
    updated_at: str

    @classmethod
    def of(cls, row: KnowledgeArticleRow) -> "ArticleView":
        return cls(
            **row.model_dump(exclude={"keywords", "updated_at"}),
            keywords=row.keywords.split(), updated_at=aware(row.updated_at).isoformat(),
        )  # fmt: skip


class SearchHit(BaseModel):
    article: ArticleView
    coverage: float = Field(description="share of the article's words found in the query (0..1)")
    matched: list[str]


class ArticlePage(Page[ArticleView]):
    pass


@router.get("", response_model=ArticlePage, summary="List the articles")
async def list_articles(
    _: ActorDep,
    session: SessionDep,
    category: str | None = None,
    include_inactive: bool = False,
    page: PageNumber = 1,
    page_size: PageSize = 50,
) -> ArticlePage:
    total, rows = await db.in_thread(knowledge.listing, session, category, include_inactive, page, page_size)
    return ArticlePage(items=[ArticleView.of(r) for r in rows], total=total, page=page, page_size=page_size)


@router.get("/search", response_model=list[SearchHit], summary="Search in Chinese (jieba + BM25), best first")
async def search_articles(
    _: ActorDep,
    session: SessionDep,
    q: Annotated[str, Query(min_length=1, max_length=500, description="the citizen's words")],
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> list[SearchHit]:
    hits = await db.in_thread(knowledge.search, session, q, limit)
    return [SearchHit(article=ArticleView.of(row), coverage=round(cov, 3), matched=list(m)) for row, cov, m in hits]


@router.get("/{article_id}", response_model=ArticleView)
async def get_article(article_id: str, _: ActorDep, session: SessionDep) -> ArticleView:
    row = await db.in_thread(knowledge.get, session, article_id)
    if row is None:
        raise not_found(f"no knowledge-base article {article_id!r}")
    return ArticleView.of(row)


@router.post("", response_model=ArticleView, status_code=status.HTTP_201_CREATED, summary="Add an article")
async def add_article(body: NewArticle, actor: EditorActor, session: SessionDep, response: Response) -> ArticleView:
    row = KnowledgeArticleRow(
        **body.model_dump(exclude={"keywords"}), keywords=" ".join(body.keywords), updated_by=actor.label
    )
    try:
        row = await db.in_thread(knowledge.create, session, row)
    except knowledge.Conflict as e:
        raise ApiError(409, str(e)) from e
    response.headers["Location"] = f"/knowledge/{row.id}"
    return ArticleView.of(row)


async def _change(session: Session, article_id: str, fields: dict, version: int | None, by: str) -> ArticleView:
    try:
        row = await db.in_thread(knowledge.change, session, article_id, fields, version, by)
    except knowledge.Conflict as e:
        raise ApiError(409, str(e)) from e
    if row is None:
        raise not_found(f"no knowledge-base article {article_id!r}")
    return ArticleView.of(row)


@router.put("/{article_id}", response_model=ArticleView, summary="Edit an article (fields sent change)")
async def edit_article(article_id: str, body: ArticleEdit, actor: EditorActor, session: SessionDep) -> ArticleView:
    fields = body.model_dump(exclude_unset=True, exclude={"version"})
    if not fields:
        raise ApiError(
            422, "nothing to change: send at least one of title, question, keywords, answer, category, active"
        )
    for name in ("title", "answer", "active"):
        if name in fields and fields[name] is None:
            raise ApiError(422, f"{name} cannot be null")
    if "keywords" in fields:
        fields["keywords"] = " ".join(fields["keywords"] or [])
    if "question" in fields and fields["question"] is None:
        fields["question"] = ""
    return await _change(session, article_id, fields, body.version, actor.label)


@router.delete("/{article_id}", response_model=ArticleView, summary="Withdraw an article (kept, inactive)")
async def withdraw_article(article_id: str, actor: EditorActor, session: SessionDep) -> ArticleView:
    return await _change(session, article_id, {"active": False}, None, actor.label)
