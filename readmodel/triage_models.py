"""The intake triage model's versions: what it trains on, where its artefacts live, which one is
active, and rollback.

Training data: the seed corpus the project ships and the city's lists (catalog), the knowledge
base (read model), and the center's own history — imported past tickets (`hotline import-history`)
and the tickets closed in this system (final category and lead unit after returns, consultations
and rulings; the path the desk finally took, the operators' overrides included).

Artefacts are pickles in <data folder>/triage-models/; the `triage_model` table records each
version with its sample counts and held-out accuracy, and which one is active. The first call
with no version trains one from the city's data ("bootstrap"); the same training data trains the
same model once per process."""

import copy
import json
import pickle
import threading
import time
from datetime import datetime
from pathlib import Path

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from catalog.cities import corpus_groups, load_directory, load_lists
from core.logging import get_logger
from core.settings import Settings
from domain.intake.model import Sample, TriageModel, fingerprint, train
from readmodel import db
from readmodel.tables import (
    KnowledgeArticleRow,
    TicketRow,
    TriageHistoryRow,
    TriageModelRow,
    utcnow,
)

log = get_logger("triage-model")

MODELS_DIR = "triage-models"
HISTORY_WEIGHT = 2.0  # the center's own tickets count double: they are what its citizens say


# -- training data ----------------------------------------------------------------------------


def city_samples(city: str) -> list[Sample]:
    """The seed corpus, the lists' example phrasings and the responsibility list's names."""
    out: list[Sample] = []
    for g in corpus_groups(city):
        for text in g.get("texts", []):
            out.append(
                Sample(
                    text=text,
                    source="corpus",
                    path=g["path"],
                    emergency=g.get("emergency"),
                    category=g.get("category"),
                    article=g.get("article"),
                )
            )
    lists = load_lists(city)
    for c in lists.out_of_scope:
        out += [Sample(text=case, source="out_of_scope", path="out_of_scope", article=c.id) for case in c.cases]
    for ch in lists.legal_channels:
        out += [Sample(text=case, source="legal_channel", path="legal_channel", article=ch.id) for case in ch.cases]
    for e in lists.emergencies:
        out += [
            Sample(text=k, source="emergency", path="emergency_transfer", emergency=e.number.value, weight=0.5)
            for k in e.keywords
        ]
    for cat in load_directory(city).categories.values():
        out.append(Sample(text=cat.name, source="category", category=cat.id, weight=0.5))
    return out


def knowledge_samples(url: str) -> list[Sample]:
    """Each active article by its title, question and keywords, and by its answer (indexed too)."""
    with db.session(url) as session:
        rows = session.exec(
            select(KnowledgeArticleRow).where(KnowledgeArticleRow.active).order_by(KnowledgeArticleRow.id)
        ).all()
    out = []
    for r in rows:
        for text, weight in ((r.title, 1.0), (r.question, 1.0), (r.keywords, 0.7), (r.answer, 0.5)):
            if text and text.strip():
                out.append(
                    Sample(
                        text=text,
                        source="knowledge",
                        path="direct_answer",
                        article=r.id,
                        category=r.category,
                        weight=weight,
                    )
                )
    return out


def _ticket_sample(row: TicketRow) -> Sample | None:
    state = json.loads(row.state_json)
    req = state.get("request") or {}
    triage = state.get("triage") or {}
    path = row.intake_path or triage.get("path")
    if not req.get("description") or not path:
        return None
    detail = None
    if path == "emergency_transfer":
        detail = (triage.get("emergency") or {}).get("number")
    elif path == "legal_channel":
        detail = (triage.get("legal_channel") or {}).get("id")
    elif path == "out_of_scope":
        detail = (triage.get("out_of_scope") or {}).get("id")
    elif path == "direct_answer":
        detail = (triage.get("article") or {}).get("id")
    dispatched = path == "dispatch"
    return Sample(
        text=req["description"], source="history", path=path,
        emergency=detail if path == "emergency_transfer" else None,
        article=detail if path != "emergency_transfer" else None,
        category=row.category if dispatched else None, address=(req.get("address") or {}).get("text", ""),
        district=row.district, street=row.street,
        lead_unit=row.lead_unit if dispatched else None,
        listed_lead=state.get("first_responsible_unit") if dispatched else None, weight=HISTORY_WEIGHT,
    )  # fmt: skip


def history_samples(url: str) -> list[Sample]:
    """Imported past tickets and the tickets closed here, oldest first."""
    out: list[Sample] = []
    with db.session(url) as session:
        imported = session.exec(select(TriageHistoryRow).order_by(col(TriageHistoryRow.id))).all()
        closed = session.exec(
            select(TicketRow)
            .where(col(TicketRow.closed_at).is_not(None))
            .order_by(col(TicketRow.closed_at), col(TicketRow.number))
        ).all()
    for h in imported:
        dispatched = h.path == "dispatch"
        out.append(
            Sample(
                text=h.description,
                source="history",
                path=h.path,
                emergency=h.path_detail if h.path == "emergency_transfer" else None,
                article=h.path_detail if h.path != "emergency_transfer" else None,
                category=h.category if dispatched else None,
                address=h.address,
                district=h.district,
                street=h.street,
                lead_unit=h.lead_unit if dispatched else None,
                listed_lead=(h.first_unit or h.lead_unit) if dispatched else None,
                weight=HISTORY_WEIGHT,
            )
        )
    out += [s for s in map(_ticket_sample, closed) if s is not None]
    return out


def training_samples(settings: Settings) -> list[Sample]:
    return (
        city_samples(settings.city) + knowledge_samples(settings.database_url) + history_samples(settings.database_url)
    )


# -- versions -----------------------------------------------------------------------------------

_lock = threading.RLock()
_trained: dict[str, TriageModel] = {}  # by training-data fingerprint: one training per process
_loaded: dict[tuple[str, int], TriageModel] = {}  # by (database, version)
_active: dict[str, tuple[float, int | None]] = {}  # database -> (checked at, active version)
ACTIVE_TTL = 5.0  # seconds a process trusts its idea of the active version


def models_dir(settings: Settings) -> Path:
    return Path(settings.data_dir) / MODELS_DIR


def _train(settings: Settings, samples: list[Sample]) -> TriageModel:
    fp = fingerprint(samples)
    with _lock:
        model = _trained.get(fp)
        if model is None:
            model = train(samples, load_lists(settings.city).synonym_map)
            while len(_trained) >= 4:  # a few: a model is some megabytes
                _trained.pop(next(iter(_trained)))
            _trained[fp] = model
        return model


def train_version(settings: Settings, by: str = "system", force: bool = False) -> tuple[TriageModelRow, bool]:
    """Train on the data as it is now and make it the active version. Returns (row, trained):
    when the data has not changed since the active version, that version stays (unless force)."""
    url = settings.database_url
    samples = training_samples(settings)
    fp = fingerprint(samples)
    with _lock:
        current = active_row(url)
        if current is not None and current.fingerprint == fp and not force:
            return current, False
        model = _train(settings, samples)
        with db.session(url) as session:
            version = (session.exec(select(func.max(TriageModelRow.version))).one() or 0) + 1
        now = utcnow()
        name = f"v{version:04d}-{fp}-{now:%Y%m%d%H%M%S}.pkl"
        folder = models_dir(settings)
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{name}.tmp"
        with tmp.open("wb") as f:
            pickle.dump(model, f, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(folder / name)
        row = TriageModelRow(
            version=version, trained_at=now, trained_by=by, fingerprint=fp, artefact=name,
            samples_json=json.dumps(model.samples), metrics_json=json.dumps({**model.metrics.as_dict(), "seconds": model.seconds}),
        )  # fmt: skip
        try:
            with db.session(url) as session:
                session.add(row)
                session.commit()
        except IntegrityError:  # another process trained the same version number first: keep theirs
            (folder / name).unlink(missing_ok=True)
            current = active_row(url)
            if current is None:
                raise
            return current, False
        activate(url, version)
        _loaded[(url, version)] = _as_version(model, version)
        log.info("triage model trained", version=version, samples=model.samples, metrics=model.metrics.as_dict(), by=by)
        return active_row(url) or row, True


def activate(url: str, version: int) -> TriageModelRow:
    with db.session(url) as session:
        row = session.get(TriageModelRow, version)
        if row is None:
            raise LookupError(f"no triage model version {version}")
        for other in session.exec(select(TriageModelRow).where(TriageModelRow.active)).all():
            other.active = False
            session.add(other)
        row.active = True
        row.activated_at = utcnow()
        session.add(row)
        session.commit()
    _active.pop(url, None)
    return row


def rollback(url: str) -> TriageModelRow:
    """Activate the version before the active one."""
    current = active_row(url)
    if current is None:
        raise LookupError("no active triage model to roll back from")
    with db.session(url) as session:
        previous = session.exec(
            select(TriageModelRow)
            .where(TriageModelRow.version < current.version)
            .order_by(col(TriageModelRow.version).desc())
        ).first()
    if previous is None:
        raise LookupError(f"version {current.version} is the first: nothing to roll back to")
    return activate(url, previous.version)


def versions(url: str) -> list[TriageModelRow]:
    with db.session(url) as session:
        return list(session.exec(select(TriageModelRow).order_by(col(TriageModelRow.version).desc())).all())


def active_row(url: str) -> TriageModelRow | None:
    with db.session(url) as session:
        return session.exec(select(TriageModelRow).where(TriageModelRow.active)).first()


def _active_version(url: str) -> int | None:
    checked = _active.get(url)
    if checked and time.monotonic() - checked[0] < ACTIVE_TTL:
        return checked[1]
    row = active_row(url)
    version = row.version if row else None
    _active[url] = (time.monotonic(), version)
    return version


def active_model(settings: Settings, wait: bool = True) -> TriageModel | None:
    """The active version, loaded once per process. With no version yet, one is trained from the
    city's data and the caller waits for it — unless wait=False (a ticket's intake activity, which
    must never stall on training: it uses the lists alone until the training workflow, which the
    worker's schedule runs at once when it is created, has made the first version)."""
    url = settings.database_url
    version = _active_version(url)
    if version is None:
        if not wait:
            return None
        with _lock:
            if _active_version(url) is None:
                train_version(settings, by="bootstrap")
                _active.pop(url, None)
        version = _active_version(url)
        if version is None:
            return None
    model = _loaded.get((url, version))
    if model is not None:
        return model
    with _lock:
        model = _loaded.get((url, version))
        if model is None:
            model = _load(settings, version, train_if_missing=wait)
            if model is None:
                return None
            if len(_loaded) > 8:
                _loaded.pop(next(iter(_loaded)))
            _loaded[(url, version)] = model
        return model


def _load(settings: Settings, version: int | None, train_if_missing: bool = True) -> TriageModel | None:
    with db.session(settings.database_url) as session:
        row = session.get(TriageModelRow, version) if version is not None else None
    path = models_dir(settings) / row.artefact if row else None
    if path is not None and path.is_file():
        with path.open("rb") as f:
            model = pickle.load(f)
        model.version = row.version if row else None
        return model
    # The artefact is not in this data folder (another machine trained it): train the same here.
    if not train_if_missing:
        return None
    log.warning("triage model artefact missing: training from the data", version=version, path=str(path))
    return _as_version(_train(settings, training_samples(settings)), version)


def _as_version(model: TriageModel, version: int | None) -> TriageModel:
    """The trained model as one database's version (one training may serve several databases)."""
    own = copy.copy(model)
    own.version = version
    return own


def describe(row: TriageModelRow) -> dict:
    return {
        "version": row.version, "trained_at": row.trained_at.isoformat() if isinstance(row.trained_at, datetime) else row.trained_at,
        "trained_by": row.trained_by, "active": row.active, "samples": json.loads(row.samples_json),
        "held_out": json.loads(row.metrics_json),
    }  # fmt: skip
