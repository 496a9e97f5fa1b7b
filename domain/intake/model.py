"""The learned part of intake triage: character n-gram and word TF-IDF with linear models
(scikit-learn), trained on the center's own data — the city's lists and knowledge base, the seed
corpus the project ships, and the center's closed tickets (final category, final lead unit, the
operators' path overrides).

Three heads share one vectoriser:
    path      dispatch / direct_answer / out_of_scope / legal_channel / emergency:<110|119|120|122>
    category  the responsibility-list category (权责清单事项)
    article   the knowledge-base article that answers a consultation

and a table learned from history: for a category in a street (or district), the unit that finally
led such tickets when it was not the one the list names (after returns, consultations, rulings).

Pure computation: no files, no database. The caller persists a model (pickle) and keeps versions.
scikit-learn and jieba are imported here only: workflows never import this module."""

import hashlib
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import SGDClassifier
from sklearn.pipeline import FeatureUnion

from domain.intake.textsearch import NO_SYNONYMS, Synonyms, normalize, terms

EMERGENCY_PREFIX = "emergency_transfer:"
MODEL_FORMAT = 1


@dataclass(frozen=True)
class Sample:
    """One labelled request. Any label may be missing (a list case has a path, no category)."""

    text: str
    source: str  # corpus | out_of_scope | legal_channel | knowledge | category | emergency | history
    path: str | None = None  # a TriagePath value
    emergency: str | None = None  # 110 / 119 / 120 / 122, for emergency_transfer
    category: str | None = None
    article: str | None = None
    address: str = ""
    district: str | None = None
    street: str | None = None
    lead_unit: str | None = None  # the final lead (history)
    listed_lead: str | None = None  # the lead the list and the address gave (history)
    weight: float = 1.0

    @property
    def path_label(self) -> str | None:
        """The path head's class: the entry rides along where a path has several (the emergency
        service, the legal channel, the out-of-scope category): "legal_channel:court"."""
        if self.path == "emergency_transfer":
            return f"{EMERGENCY_PREFIX}{self.emergency}" if self.emergency else None
        if self.path in ("legal_channel", "out_of_scope") and self.article:
            return f"{self.path}:{self.article}"
        return self.path


@lru_cache(maxsize=50_000)
def _cached_terms(text: str) -> tuple[str, ...]:
    return tuple(terms(text))


def _words(text: str) -> list[str]:
    return list(_cached_terms(text))


def _vectorizer() -> FeatureUnion:
    return FeatureUnion(
        [
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True, min_df=2)),
            (
                "words",
                TfidfVectorizer(tokenizer=_words, lowercase=False, token_pattern=None, sublinear_tf=True, min_df=2),
            ),
        ]
    )


def _linear(alpha: float) -> SGDClassifier:
    """Logistic regression fitted by SGD (one-vs-rest): seconds on a two-core machine for a few
    thousand samples, and probabilities for the top three."""
    return SGDClassifier(loss="log_loss", alpha=alpha, max_iter=50, tol=None, class_weight="balanced", random_state=0)


@dataclass
class Head:
    """One classifier over the shared features."""

    classes: list[str]
    clf: SGDClassifier | None  # None: a single class (always that one)

    def proba(self, x) -> np.ndarray:
        if self.clf is None:
            return np.ones((x.shape[0], 1))
        return self.clf.predict_proba(x)

    def ranked(self, x, k: int) -> list[tuple[str, float]]:
        p = self.proba(x)[0]
        order = np.argsort(-p)[:k]
        return [(self.classes[i], float(p[i])) for i in order]

    def ranked_sparse(self, idx: np.ndarray, val: np.ndarray, k: int) -> list[tuple[str, float]]:
        """The same as `ranked` for one request given as feature indices and values, without
        scikit-learn's per-call validation (a fraction of a millisecond instead of several)."""
        if self.clf is None:
            return [(self.classes[0], 1.0)]
        coef, intercept = self.clf.coef_, self.clf.intercept_
        decision = coef[:, idx] @ val + intercept
        p = 1.0 / (1.0 + np.exp(-decision))
        if len(self.classes) == 2:  # one column: the second class
            p = np.array([1.0 - p[0], p[0]])
        else:
            p = p / p.sum()
        order = np.argsort(-p)[:k]
        return [(self.classes[i], float(p[i])) for i in order]


def _fit_head(x, labels: list[str | None], weights: np.ndarray, c: float) -> Head | None:
    rows = [i for i, y in enumerate(labels) if y]
    if not rows:
        return None
    ys = [y for y in (labels[i] for i in rows) if y]
    classes = sorted(set(ys))
    if len(classes) == 1:
        return Head(classes, None)
    clf = _linear(c).fit(x[rows], ys, sample_weight=weights[rows])
    return Head([str(c) for c in clf.classes_], clf)


@dataclass(frozen=True)
class LeadCorrection:
    """Tickets of a category in an area were finally led by `unit`, not by the listed lead."""

    unit: str
    tickets: int
    share: float


@dataclass
class Metrics:
    held_out: int = 0
    path_accuracy: float | None = None
    category_accuracy: float | None = None
    category_top3: float | None = None
    lead_accuracy: float | None = None

    def as_dict(self) -> dict:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


@dataclass
class TriageModel:
    vectorizer: FeatureUnion
    path: Head | None
    category: Head | None
    article: Head | None
    synonyms: Synonyms = NO_SYNONYMS
    lead_corrections: dict[tuple[str, str], LeadCorrection] = field(default_factory=dict)
    samples: dict[str, int] = field(default_factory=dict)  # by source
    metrics: Metrics = field(default_factory=Metrics)
    trained_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    fingerprint: str = ""  # of the training data: the same data trains the same model
    version: int | None = None  # set by the store
    seconds: float = 0.0  # how long training took
    format: int = MODEL_FORMAT

    def features(self, text: str):
        return self.vectorizer.transform([normalize(text, self.synonyms)])

    def sparse_features(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """What `features` computes (TF-IDF, sublinear tf, l2 per part), for one text, directly."""
        text = normalize(text, self.synonyms)
        fast = self.__dict__.get("_fast")
        if fast is None:
            fast = []
            offset = 0
            for _, part in self.vectorizer.transformer_list:
                fast.append((part.build_analyzer(), part.vocabulary_, part.idf_, offset))
                offset += len(part.vocabulary_)
            self.__dict__["_fast"] = fast
        indices: list[np.ndarray] = []
        values: list[np.ndarray] = []
        for analyze, vocabulary, idf, offset in fast:
            counts = Counter(i for i in (vocabulary.get(t) for t in analyze(text)) if i is not None)
            if not counts:
                continue
            idx = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
            val = (1.0 + np.log(np.fromiter(counts.values(), dtype=float, count=len(counts)))) * idf[idx]
            val /= np.linalg.norm(val) or 1.0
            indices.append(idx + offset)
            values.append(val)
        if not indices:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        return np.concatenate(indices), np.concatenate(values)

    def predict(self, text: str) -> "Prediction":
        last = self.__dict__.get("_last")
        if last is not None and last[0] == text:
            return last[1]
        idx, val = self.sparse_features(text)
        prediction = Prediction(
            paths=self.path.ranked_sparse(idx, val, 40) if self.path else [],
            categories=self.category.ranked_sparse(idx, val, 3) if self.category else [],
            articles=self.article.ranked_sparse(idx, val, 3) if self.article else [],
        )
        self.__dict__["_last"] = (text, prediction)
        return prediction

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k not in ("_fast", "_last")}

    def lead_correction(self, category: str, street: str | None, district: str | None) -> LeadCorrection | None:
        return self.lead_corrections.get((category, street or "")) or self.lead_corrections.get(
            (category, district or "")
        )


@dataclass(frozen=True)
class Prediction:
    paths: list[tuple[str, float]]  # best first
    categories: list[tuple[str, float]]
    articles: list[tuple[str, float]]

    def path_probability(self, label: str) -> float:
        return sum(p for lab, p in self.paths if lab.split(":", 1)[0] == label)

    def emergency(self) -> tuple[str | None, float]:
        """The most likely emergency service and the probability of any emergency."""
        em = [(lab[len(EMERGENCY_PREFIX) :], p) for lab, p in self.paths if lab.startswith(EMERGENCY_PREFIX)]
        if not em:
            return None, 0.0
        return max(em, key=lambda e: e[1])[0], sum(p for _, p in em)


def fingerprint(samples: list[Sample]) -> str:
    h = hashlib.sha256()
    for s in samples:
        h.update(
            repr(
                (s.text, s.source, s.path, s.emergency, s.category, s.article, s.street, s.lead_unit, s.weight)
            ).encode()
        )
    return h.hexdigest()[:16]


def _held_out(samples: list[Sample], share: float) -> set[int]:
    """A deterministic share of the history (the center's own tickets) or, with little history, of
    the corpus; list cases and article texts always train (they define the classes)."""
    history = [i for i, s in enumerate(samples) if s.source == "history"]
    pool = history if len(history) >= 20 else [i for i, s in enumerate(samples) if s.source in ("corpus", "history")]
    out = set()
    for i in pool:
        digest = hashlib.sha256(samples[i].text.encode()).digest()
        if digest[0] < share * 256:
            out.add(i)
    return out


def _fit(samples: list[Sample], synonyms: Synonyms, c: float) -> TriageModel:
    texts = [normalize(s.text, synonyms) for s in samples]
    vectorizer = _vectorizer()
    x = vectorizer.fit_transform(texts)
    for _, part in vectorizer.transformer_list:
        part.stop_words_ = None  # the pruned terms: only for introspection, and most of the pickle
    w = np.array([s.weight for s in samples], dtype=float)
    return TriageModel(
        vectorizer=vectorizer,
        path=_fit_head(x, [s.path_label for s in samples], w, c),
        category=_fit_head(x, [s.category for s in samples], w, c),
        article=_fit_head(x, [s.article if s.path == "direct_answer" else None for s in samples], w, c),
        synonyms=synonyms,
        lead_corrections=_lead_corrections(samples),
    )


def _lead_corrections(samples: list[Sample], min_tickets: int = 3, min_share: float = 0.6) -> dict:
    by_area: dict[tuple[str, str], Counter] = defaultdict(Counter)
    listed: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for s in samples:
        if s.source != "history" or not s.category or not s.lead_unit:
            continue
        for area in (s.street, s.district):
            if area:
                by_area[(s.category, area)][s.lead_unit] += 1
                if s.listed_lead:
                    listed[(s.category, area)][s.listed_lead] += 1
    out = {}
    for key, counts in by_area.items():
        unit, n = counts.most_common(1)[0]
        total = sum(counts.values())
        usual = listed[key].most_common(1)[0][0] if listed[key] else None
        if n >= min_tickets and n / total >= min_share and unit != usual:
            out[key] = LeadCorrection(unit, n, n / total)
    return out


def train(
    samples: list[Sample], synonyms: Synonyms = NO_SYNONYMS, held_out: float = 0.2, c: float = 1e-5
) -> TriageModel:
    """Fit on all samples; the metrics come from a model fitted without the held-out share."""
    if not any(s.path_label for s in samples):
        raise ValueError("no labelled samples to train the triage model on")
    started = time.perf_counter()
    metrics = Metrics()
    test = _held_out(samples, held_out)
    if test:
        trial = _fit([s for i, s in enumerate(samples) if i not in test], synonyms, c)
        metrics = evaluate(trial, [samples[i] for i in sorted(test)])
    model = _fit(samples, synonyms, c)
    model.metrics = metrics
    model.samples = dict(Counter(s.source for s in samples))
    model.fingerprint = fingerprint(samples)
    model.seconds = round(time.perf_counter() - started, 2)
    return model


def evaluate(model: TriageModel, samples: list[Sample]) -> Metrics:
    paths = cats = top3 = leads = 0
    n_path = n_cat = n_lead = 0
    for s in samples:
        p = model.predict(s.text)
        if s.path_label and p.paths:
            n_path += 1
            paths += p.paths[0][0] == s.path_label
        if s.category and p.categories:
            n_cat += 1
            cats += p.categories[0][0] == s.category
            top3 += s.category in [c for c, _ in p.categories]
        if s.lead_unit and s.listed_lead and p.categories:
            n_lead += 1
            corr = model.lead_correction(p.categories[0][0], s.street, s.district)
            predicted = corr.unit if corr else s.listed_lead if p.categories[0][0] == s.category else None
            leads += predicted == s.lead_unit
    return Metrics(
        held_out=len(samples),
        path_accuracy=paths / n_path if n_path else None,
        category_accuracy=cats / n_cat if n_cat else None,
        category_top3=top3 / n_cat if n_cat else None,
        lead_accuracy=leads / n_lead if n_lead else None,
    )
