"""Intake triage (受理分流): the five paths a request can take at the desk.

    direct answer       a consultation the knowledge base answers: closed at intake with it
    out of scope        on the city's out-of-scope list: explained and closed, no dispatch
    emergency transfer  flagged for 110 / 119 / 120 / 122: transferred at once, link kept
    legal channel       for a court, arbitration, the police or the petition office: guidance
    dispatch            everything else

The lists are city data (catalog/cities/<city>/*.toml); the knowledge base is in the read model.
The operator may override the decision with a reason, which is recorded."""

import re
from enum import StrEnum
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, TypeGuard

from pydantic import BaseModel, ConfigDict, Field

from domain.vocabulary import Kind

if TYPE_CHECKING:  # jieba, numpy and scikit-learn stay out of modules that only need the models (workflows)
    from domain.intake.model import TriageModel
    from domain.intake.textsearch import Hit, Synonyms, TextIndex


class TriagePath(StrEnum):
    direct_answer = "direct_answer"
    out_of_scope = "out_of_scope"
    emergency_transfer = "emergency_transfer"
    legal_channel = "legal_channel"
    dispatch = "dispatch"


class EmergencyService(StrEnum):
    police = "110"
    fire = "119"
    ambulance = "120"
    traffic = "122"


# -- the city's lists --------------------------------------------------------------------------


class OutOfScopeCategory(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    name: str
    explanation: str
    cases: list[str] = Field(min_length=1)
    decisive: list[str] = []  # phrases that settle it on their own
    patterns: list[str] = []  # ... and regular expressions that do ("在济南" but not "济南路")


class LegalChannel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    name: str
    guidance: str
    cases: list[str] = Field(min_length=1)
    decisive: list[str] = []  # words that settle it on their own ("信访", "报案")
    patterns: list[str] = []  # ... and regular expressions that do


class Emergency(BaseModel):
    model_config = ConfigDict(extra="forbid", ignored_types=(cached_property,))
    number: EmergencyService
    name: str
    transfer_script: str
    keywords: list[str] = []
    patterns: list[str] = []  # regular expressions for the ways the danger is described
    exclusions: list[str] = []  # look-alikes that are not this emergency ("打不着火")

    @cached_property
    def _compiled(self) -> tuple[re.Pattern | None, re.Pattern | None]:
        def join(ps: list[str]) -> re.Pattern | None:
            return re.compile("|".join(f"(?:{p})" for p in ps)) if ps else None

        return join(self.patterns), join(self.exclusions)


class TriageLists(BaseModel):
    model_config = ConfigDict(ignored_types=(cached_property,))

    out_of_scope: list[OutOfScopeCategory]
    legal_channels: list[LegalChannel]
    emergencies: list[Emergency]
    synonyms: dict[str, list[str]] = {}  # canonical -> variants (synonyms.toml)
    past_markers: list[str] = []  # an emergency told after the fact ("昨天") is only a hint
    habitual_markers: list[str] = []  # ... as is a recurring nuisance ("天天冒黑烟"): a complaint
    aftermath_markers: list[str] = []  # ... and a call about what followed ("工伤", "理赔")
    present_markers: list[str] = []  # ... unless it is still going on ("现在", "正在")
    present_exceptions: list[str] = []  # ... which "到现在也没修" is not

    @cached_property
    def synonym_map(self) -> "Synonyms":
        from domain.intake.textsearch import Synonyms

        return Synonyms.of(self.synonyms)

    def out_of_scope_index(self) -> "TextIndex":
        from domain.intake.textsearch import cached_index

        return cached_index(tuple((c.id, case) for c in self.out_of_scope for case in c.cases), self.synonym_map)

    def legal_index(self) -> "TextIndex":
        from domain.intake.textsearch import cached_index

        return cached_index(tuple((c.id, case) for c in self.legal_channels for case in c.cases), self.synonym_map)


# -- decisions ---------------------------------------------------------------------------------


class Article(BaseModel):
    """A knowledge-base article as triage and the citizen see it."""

    id: str
    title: str
    answer: str


class TriageOverride(BaseModel):
    """The operator's decision instead of the suggestion, with a reason (recorded)."""

    path: TriagePath
    reason: str = Field(min_length=2, max_length=500)
    article_id: str | None = None  # direct_answer
    out_of_scope_id: str | None = None  # out_of_scope
    legal_channel: str | None = None  # legal_channel
    emergency_service: EmergencyService | None = None  # emergency_transfer


class CategoryGuess(BaseModel):
    id: str
    name: str
    confidence: float


class IntakeRecord(BaseModel):
    """What intake suggested for the form and what was chosen, by whom ("suggestion" when the
    form left it to the suggestion): kept on the ticket, counted to measure the suggestions."""

    model_version: int | None = None
    suggested_categories: list[CategoryGuess] = []
    category: str
    category_by: str  # "suggestion" or who filled it in
    suggested_street: str | None = None
    address_ambiguous: bool = False
    street: str
    street_by: str


class TriageDecision(BaseModel):
    path: TriagePath
    reason: str
    confidence: float = 0.0
    article: Article | None = None
    out_of_scope: OutOfScopeCategory | None = None
    legal_channel: LegalChannel | None = None
    emergency: Emergency | None = None
    overridden_by: str | None = None
    suggested: TriagePath | None = None  # what triage would have said, when overridden
    model_version: int | None = None  # the triage model version that took part
    intake: IntakeRecord | None = None  # the category and street suggested and chosen


class Thresholds(BaseModel):
    """How sure a match must be: the share of a candidate's words (or character bigrams) the
    request contains, and at least two words in common (one shared word is a coincidence) unless
    the characters match well; how the model's probabilities and the lists' evidence combine."""

    direct_answer: float = 0.5
    out_of_scope: float = 0.6
    legal_channel: float = 0.6
    min_matched: int = 2
    char_coverage: float = 0.5  # a paraphrase: this share of the candidate's character bigrams
    decisive: float = 2.0  # the evidence of a decisive word on its own: beats all but a sure model (5-fold CV)
    list_weight: float = 0.5  # the lists' evidence beside the model's probability
    dispatch_base: float = 0.45  # the evidence dispatch is credited with (the lists' usual bar)
    article_probability: float = 0.15  # the model's article head names the answer (5-fold CV)
    emergency_with_pattern: float = 0.02  # the model's P(emergency) a matched pattern needs (5-fold CV on the corpus)
    emergency_told_after: float = 0.5  # ... when the danger was told after the fact
    emergency_model_alone: float = 0.7  # the model's P(emergency) that transfers without a pattern


DEFAULT_THRESHOLDS = Thresholds()


class EmergencyHint(BaseModel):
    """Words in the request that signal an emergency: the path suggested, the operator confirms."""

    number: EmergencyService
    name: str
    matched: list[str]
    strength: float = 1.0  # 1: happening now; lower: told after the fact ("昨天着火了")


def _scrub(text: str, exclusion: re.Pattern | None) -> str:
    """The text with its look-alikes blanked out (a separator, so no pattern bridges the gap)."""
    return exclusion.sub(lambda m: "|" * len(m.group(0)), text) if exclusion else text


_last_hints: "tuple[str, TriageLists, list[EmergencyHint]] | None" = None  # the desk asks twice per request


def emergency_hints(description: str, lists: TriageLists) -> list[EmergencyHint]:
    """Every emergency service whose keywords or patterns the request matches, strongest first.
    Matched on the text as written and with the city's synonyms applied ("煤气味" = "燃气味")."""
    global _last_hints
    last = _last_hints
    if last is not None and last[0] == description and last[1] is lists:
        return [h.model_copy() for h in last[2]]
    hints = _emergency_hints(description, lists)
    _last_hints = (description, lists, hints)
    return [h.model_copy() for h in hints]


def _emergency_hints(description: str, lists: TriageLists) -> list[EmergencyHint]:
    from domain.intake.textsearch import normalize

    raw = normalize(description).replace(" ", "")
    texts = list(dict.fromkeys([raw, lists.synonym_map.apply(raw)]))
    now = raw
    for phrase in sorted(lists.present_exceptions, key=len, reverse=True):
        now = now.replace(phrase, "|")
    not_now = any(m in raw for m in (*lists.past_markers, *lists.habitual_markers, *lists.aftermath_markers))
    told_after = not_now and not any(m in now for m in lists.present_markers)
    hints = []
    for e in lists.emergencies:
        pattern, exclusion = e._compiled
        matched: list[str] = []
        for text in texts:
            clean = _scrub(text, exclusion)
            matched += [k for k in e.keywords if k in clean]
            if pattern is not None:
                matched += [m.group(0) for m in pattern.finditer(clean) if m.group(0)]
        matched = list(dict.fromkeys(matched))
        if matched:
            strength = 0.4 if told_after else 1.0
            hints.append(EmergencyHint(number=e.number, name=e.name, matched=matched, strength=strength))
    return sorted(hints, key=lambda h: (h.strength, len(h.matched)), reverse=True)


def _confident(hit: "Hit | None", threshold: float, t: Thresholds) -> "TypeGuard[Hit]":
    return hit is not None and hit.coverage >= threshold and len(hit.matched) >= t.min_matched


class Evidence(BaseModel):
    """What the city's lists say for one desk path: how strongly, for which entry, and why."""

    score: float = 0.0
    key: str | None = None
    why: str = ""


def _list_evidence(
    description: str,
    index: "TextIndex",
    decisive: dict[str, list[str]],
    t: Thresholds,
    synonyms,
    patterns: dict[str, list[str]] | None = None,
) -> Evidence:
    """The best entry by similarity (words, or character bigrams for a paraphrase); a decisive
    word ("信访", "报案") or pattern counts on its own."""
    from domain.intake.textsearch import normalize

    best = Evidence()
    for hit in index.search(description, 8):
        if len(hit.matched) < t.min_matched and hit.char_coverage < t.char_coverage:
            continue
        if hit.similarity > best.score:
            best = Evidence(score=hit.similarity, key=hit.key, why="、".join(hit.matched) or "similar wording")
    text = normalize(description, synonyms)
    for key, words in decisive.items():
        said = [w for w in words if _normal_word(w, synonyms) in text]
        if said and t.decisive > best.score:
            best = Evidence(score=t.decisive, key=key, why="、".join(said))
    for key, ps in (patterns or {}).items():
        found = [m.group(0) for m in (_compiled(p).search(text) for p in ps) if m]
        if found and t.decisive > best.score:
            best = Evidence(score=t.decisive, key=key, why="、".join(found))
    return best


@lru_cache(maxsize=512)
def _compiled(pattern: str) -> re.Pattern:
    return re.compile(pattern)


@lru_cache(maxsize=4096)
def _normal_word(word: str, synonyms) -> str:
    """A decisive word as matched: normalised once, not on every request."""
    from domain.intake.textsearch import normalize

    return normalize(word, synonyms)


def suggest(
    description: str,
    kind: Kind,
    emergency_service: EmergencyService | None,
    lists: TriageLists,
    knowledge: "TextIndex",
    articles: dict[str, Article],
    t: Thresholds = DEFAULT_THRESHOLDS,
    model: "TriageModel | None" = None,
) -> TriageDecision:
    """The path the desk would take without an override, with the reason.

    Emergencies first (the operator's flag, or the emergency patterns and the model); then the
    legal channel, out of scope, a direct answer and dispatch compete on one score: the model's
    probability for the path plus the evidence of the city's lists and knowledge base. Without a
    model the lists decide alone, each against its threshold."""
    if emergency_service is not None:
        em = next((e for e in lists.emergencies if e.number == emergency_service), None)
        if em is not None:
            return TriageDecision(
                path=TriagePath.emergency_transfer,
                reason=f"flagged for {em.number} {em.name}",
                confidence=1.0,
                emergency=em,
            )
    prediction = model.predict(description) if model is not None else None
    emergency = _emergency(description, lists, prediction, t)
    if emergency is not None:
        return emergency
    syn = lists.synonym_map
    legal = _list_evidence(
        description, lists.legal_index(), {c.id: c.decisive for c in lists.legal_channels}, t, syn,
        {c.id: c.patterns for c in lists.legal_channels},
    )  # fmt: skip
    oos = _list_evidence(
        description, lists.out_of_scope_index(), {c.id: c.decisive for c in lists.out_of_scope}, t, syn,
        {c.id: c.patterns for c in lists.out_of_scope},
    )  # fmt: skip
    answer = Evidence()
    if kind == Kind.consultation:
        answer = _answer_evidence(description, knowledge, articles, prediction, t)
    scores = _path_scores(legal, oos, answer, prediction, t)
    path, score = max(scores.items(), key=lambda kv: kv[1])
    confidence = round(min(1.0, max(0.0, score)), 3)
    if path == TriagePath.legal_channel:
        key = legal.key or _entity(prediction, "legal_channel")
        ch = next((c for c in lists.legal_channels if c.id == key), None)
        if ch is not None:
            why = legal.why if legal.key == ch.id else "the model, from similar requests"
            return TriageDecision(
                path=path, reason=f"belongs to {ch.name}: {why}", confidence=confidence, legal_channel=ch
            )
    if path == TriagePath.out_of_scope:
        key = oos.key or _entity(prediction, "out_of_scope")
        cat = next((c for c in lists.out_of_scope if c.id == key), None)
        if cat is not None:
            return TriageDecision(
                path=path, reason=f"out of scope: {cat.name}", confidence=confidence, out_of_scope=cat
            )
    if path == TriagePath.direct_answer and answer.key in articles:
        art = articles[answer.key]
        return TriageDecision(path=path, reason=f"knowledge base: {art.title}", confidence=confidence, article=art)
    return TriageDecision(
        path=TriagePath.dispatch, reason="in scope: dispatch to the responsible unit", confidence=confidence
    )


def _entity(prediction, path: str) -> str | None:
    """The list entry the model names for a desk path (labels are "<path>:<entry id>")."""
    if prediction is None:
        return None
    return next((lab.split(":", 1)[1] for lab, _ in prediction.paths if lab.startswith(f"{path}:")), None)


def _answer_evidence(
    description: str, knowledge: "TextIndex", articles: dict[str, Article], prediction, t: Thresholds
) -> Evidence:
    """The article that answers it: the knowledge base's own match when it is good enough (an
    article the center wrote today is not in the model yet), else the model's article."""
    best = Evidence()
    for hit in knowledge.search(description, 5):
        if hit.key not in articles or (len(hit.matched) < t.min_matched and hit.char_coverage < t.char_coverage):
            continue
        if hit.similarity > best.score:
            best = Evidence(score=hit.similarity, key=hit.key, why="、".join(hit.matched))
    if prediction is not None and best.score < t.direct_answer:
        for key, p in prediction.articles[:1]:
            if key in articles and p >= t.article_probability and p > best.score:
                best = Evidence(score=p, key=key, why="similar requests")
    return best


def _path_scores(
    legal: Evidence, oos: Evidence, answer: Evidence, prediction, t: Thresholds
) -> dict[TriagePath, float]:
    if prediction is None:  # the lists alone, each against its bar
        scores = {TriagePath.dispatch: 0.0}
        for path, ev, bar in (  # on a tie, out of scope ("already in court, intervene") wins
            (TriagePath.out_of_scope, oos, t.out_of_scope),
            (TriagePath.legal_channel, legal, t.legal_channel),
            (TriagePath.direct_answer, answer, t.direct_answer),
        ):
            if ev.key and ev.score >= bar:
                scores[path] = ev.score - bar + 0.01
        return scores
    p = {path: prediction.path_probability(path.value) for path in TriagePath}
    scores = {
        TriagePath.dispatch: p[TriagePath.dispatch] + t.list_weight * t.dispatch_base,
        TriagePath.legal_channel: p[TriagePath.legal_channel] + t.list_weight * legal.score,
        TriagePath.out_of_scope: p[TriagePath.out_of_scope] + t.list_weight * oos.score,
    }
    if answer.key:
        scores[TriagePath.direct_answer] = p[TriagePath.direct_answer] + t.list_weight * answer.score
    return scores


def _emergency(description: str, lists: TriageLists, prediction, t: Thresholds) -> TriageDecision | None:
    """Transfer when the patterns say so and the model does not rule it out, or the model is sure."""
    hints = emergency_hints(description, lists)
    service, p_em = prediction.emergency() if prediction is not None else (None, 0.0)
    top = hints[0] if hints else None
    if top is not None:
        needed = t.emergency_with_pattern if top.strength >= 1 else t.emergency_told_after
        if prediction is None and top.strength >= 1 or prediction is not None and p_em >= needed:
            em = next(e for e in lists.emergencies if e.number == top.number)
            conf = round(max(p_em, top.strength * 0.9), 3)
            return TriageDecision(
                path=TriagePath.emergency_transfer, reason=f"emergency words for {em.number} {em.name}: {'、'.join(top.matched[:4])}",
                confidence=conf, emergency=em,
            )  # fmt: skip
    if service is not None and p_em >= t.emergency_model_alone:
        found = next((e for e in lists.emergencies if e.number == service), None)
        if found is not None:
            em = found
            return TriageDecision(
                path=TriagePath.emergency_transfer, reason=f"like emergencies for {em.number} {em.name} (the model)",
                confidence=round(p_em, 3), emergency=em,
            )  # fmt: skip
    return None


# How sure triage must be to close at the desk a request the operator filed under a category of
# the responsibility list (a decisive word or pattern gives 1.0; the model alone rarely passes).
FILED_IN_SCOPE_BAR = 0.5
DESK_CLOSURES = (TriagePath.out_of_scope, TriagePath.legal_channel)


def filed_in_scope(decision: TriageDecision, operator_category: str | None) -> TriageDecision:
    """The operator's category says the matter is in scope: a vague description the model alone
    reads as out of scope or for another channel is dispatched instead, and the reason says so."""
    if operator_category is None or decision.path not in DESK_CLOSURES or decision.confidence >= FILED_IN_SCOPE_BAR:
        return decision
    why = f"filed under {operator_category}; triage leaned to {decision.path.value} at {decision.confidence}"
    return decision.model_copy(
        update={"path": TriagePath.dispatch, "reason": f"in scope: {why}", "out_of_scope": None, "legal_channel": None}
    )


def apply_override(
    suggested: TriageDecision, o: TriageOverride, by: str, lists: TriageLists, articles: dict[str, Article]
) -> TriageDecision:
    """The operator's path, with what it needs (the article, the list entry, the service)."""
    d = TriageDecision(path=o.path, reason=o.reason, confidence=1.0, overridden_by=by, suggested=suggested.path)
    if o.path == TriagePath.direct_answer:
        d.article = articles.get(o.article_id or "") or suggested.article
        if d.article is None:
            raise ValueError(f"no knowledge-base article {o.article_id!r} to answer with")
    elif o.path == TriagePath.out_of_scope:
        d.out_of_scope = (
            next((c for c in lists.out_of_scope if c.id == o.out_of_scope_id), None) or suggested.out_of_scope
        )
        if d.out_of_scope is None:
            raise ValueError(f"no out-of-scope category {o.out_of_scope_id!r}")
    elif o.path == TriagePath.legal_channel:
        d.legal_channel = (
            next((c for c in lists.legal_channels if c.id == o.legal_channel), None) or suggested.legal_channel
        )
        if d.legal_channel is None:
            raise ValueError(f"no legal channel {o.legal_channel!r}")
    elif o.path == TriagePath.emergency_transfer:
        d.emergency = (
            next((e for e in lists.emergencies if e.number == o.emergency_service), None) or suggested.emergency
        )
        if d.emergency is None:
            raise ValueError("an emergency transfer needs emergency_service (110, 119, 120 or 122)")
    return d
