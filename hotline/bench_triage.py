"""`hotline bench-triage` (`make bench-triage`): how well intake triage does on a held-out set of
requests — path accuracy with a confusion matrix, emergency recall and false alarms, category
top-1 and top-3, street and lead-unit accuracy, and the latency of one triage.

The set is a TOML file of [[request]] tables: id, text, address, path, emergency (110/119/120/122
for emergency_transfer), category, district and street (unit ids; "" when the request names none),
kind. By default the triage runs against a fresh read model in a temporary folder, with the model
trained there on the project's own training data (as at a center's first start); --live measures
the configured read model and its active model instead."""

import os
import tempfile
import time
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from core.settings import PROJECT_ROOT, Settings, get_settings
from domain.intake.triage import EmergencyService, TriagePath
from domain.vocabulary import Kind

DEFAULT_SET = PROJECT_ROOT / "tests" / "data" / "triage_eval.toml"
PATHS = [p.value for p in TriagePath]
SHORT = {
    "dispatch": "disp",
    "direct_answer": "answer",
    "out_of_scope": "oos",
    "legal_channel": "legal",
    "emergency_transfer": "emerg",
}


def load_set(path: Path) -> list[dict]:
    with Path(path).open("rb") as f:
        requests = tomllib.load(f).get("request", [])
    for r in requests:
        if r.get("path") not in PATHS:
            raise ValueError(
                f"{path}: request {r.get('id')!r} has path {r.get('path')!r}, not one of {', '.join(PATHS)}"
            )
    return requests


@dataclass
class Report:
    n: int = 0
    confusion: Counter = field(default_factory=Counter)  # (expected, suggested) -> count
    emergencies: int = 0
    emergencies_caught: int = 0
    emergencies_right_service: int = 0
    non_emergencies: int = 0
    false_alarms: int = 0
    categories: int = 0
    category_top1: int = 0
    category_top3: int = 0
    streets: int = 0
    streets_right: int = 0
    streets_ambiguous: int = 0
    units: int = 0
    units_right: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)  # this thread's CPU time: what other load cannot inflate
    misses: list[str] = field(default_factory=list)
    model_version: int | None = None

    @property
    def path_accuracy(self) -> float:
        return sum(n for (e, s), n in self.confusion.items() if e == s) / self.n if self.n else 0.0

    def share(self, part: int, whole: int) -> float | None:
        return part / whole if whole else None

    def percentile(self, q: float, cpu: bool = False) -> float:
        xs = sorted(self.cpu_ms if cpu else self.latencies_ms)
        return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else 0.0

    def figures(self) -> dict:
        return {
            "requests": self.n,
            "path_accuracy": self.path_accuracy,
            "emergency_recall": self.share(self.emergencies_caught, self.emergencies),
            "emergency_service_right": self.share(self.emergencies_right_service, self.emergencies),
            "false_alarm_rate": self.share(self.false_alarms, self.non_emergencies),
            "category_top1": self.share(self.category_top1, self.categories),
            "category_top3": self.share(self.category_top3, self.categories),
            "street_accuracy": self.share(self.streets_right, self.streets),
            "unit_accuracy": self.share(self.units_right, self.units),
            "latency_p50_ms": self.percentile(0.5),
            "latency_p99_ms": self.percentile(0.99),
            "cpu_p50_ms": self.percentile(0.5, cpu=True),
            "cpu_p99_ms": self.percentile(0.99, cpu=True),
        }


def expected_lead(settings: Settings, r: dict) -> str | None:
    from catalog.cities import load_directory

    directory = load_directory(settings.city)
    cat = directory.categories.get(r.get("category") or "")
    if cat is None:
        return None
    if cat.lead != "street":
        return cat.lead
    return r.get("street") or None


def evaluate(settings: Settings, requests: list[dict]) -> Report:
    from readmodel.desk_triage import suggest_intake

    report = Report()
    if requests:  # the first call loads (or trains) the model: not a citizen's latency
        suggest_intake(settings, requests[0]["text"], Kind(requests[0].get("kind") or "help"))
    for r in requests:
        kind = Kind(r.get("kind") or "help")
        started, cpu = time.perf_counter(), time.thread_time()
        s = suggest_intake(settings, r["text"], kind, address_text=r.get("address", ""))
        report.latencies_ms.append((time.perf_counter() - started) * 1000)
        report.cpu_ms.append((time.thread_time() - cpu) * 1000)
        report.model_version = s.model_version
        report.n += 1
        expected, got = r["path"], s.decision.path.value
        report.confusion[(expected, got)] += 1
        if expected != got:
            report.misses.append(
                f"{r.get('id')}: {SHORT[expected]} -> {SHORT[got]}  {r['text'][:40]}  ({s.decision.reason[:60]})"
            )
        if expected == TriagePath.emergency_transfer:
            report.emergencies += 1
            if got == TriagePath.emergency_transfer:
                report.emergencies_caught += 1
                want = r.get("emergency")
                if want and s.decision.emergency and s.decision.emergency.number == EmergencyService(str(want)):
                    report.emergencies_right_service += 1
        else:
            report.non_emergencies += 1
            report.false_alarms += got == TriagePath.emergency_transfer
        if r.get("category"):
            report.categories += 1
            ids = [c.id for c in s.categories]
            report.category_top1 += bool(ids) and ids[0] == r["category"]
            report.category_top3 += r["category"] in ids[:3]
        if r.get("street"):
            report.streets += 1
            report.streets_right += s.address.street == r["street"]
            report.streets_ambiguous += s.address.ambiguous
        lead = expected_lead(settings, r) if expected == TriagePath.dispatch else None
        if lead:
            report.units += 1
            report.units_right += s.lead_unit is not None and s.lead_unit.id == lead
    return report


def _pct(v: float | None) -> str:
    return "  n/a" if v is None else f"{v * 100:5.1f} %"


def render(report: Report, source: Path) -> str:
    f = report.figures()
    lines = [
        f"intake triage on {source} ({report.n} requests, model version {report.model_version})",
        "",
        f"path accuracy          {_pct(f['path_accuracy'])}    (target >= 90 %)",
        "confusion (rows: expected, columns: suggested)",
        "          " + "".join(f"{SHORT[p]:>8}" for p in PATHS),
    ]
    for e in PATHS:
        lines.append(f"{SHORT[e]:>8}  " + "".join(f"{report.confusion.get((e, s), 0):>8}" for s in PATHS))
    lines += [
        "",
        f"emergency recall       {_pct(f['emergency_recall'])}    (target >= 98 %; right service {_pct(f['emergency_service_right'])})",
        f"false alarms           {_pct(f['false_alarm_rate'])}    (target <= 2 %; {report.false_alarms} of {report.non_emergencies})",
        f"category top-1         {_pct(f['category_top1'])}    (target >= 85 %; {report.categories} with a category)",
        f"category top-3         {_pct(f['category_top3'])}    (target >= 95 %)",
        f"street                 {_pct(f['street_accuracy'])}    ({report.streets} with a street; {report.streets_ambiguous} read as ambiguous)",
        f"lead unit              {_pct(f['unit_accuracy'])}    ({report.units} dispatched with a known lead)",
        f"latency p50 / p99      {f['latency_p50_ms']:.1f} / {f['latency_p99_ms']:.1f} ms    (target p99 <= 50 ms; "
        f"CPU {f['cpu_p50_ms']:.1f} / {f['cpu_p99_ms']:.1f} ms, {os.getloadavg()[0]:.1f} load average)",
    ]
    if report.misses:
        lines += ["", "wrong paths:"] + [f"  {m}" for m in report.misses]
    return "\n".join(lines)


def _fresh_settings(base: Settings, folder: Path) -> Settings:
    from readmodel import db, knowledge

    settings = base.model_copy(update={"data_dir": folder, "database_url": f"sqlite:///{folder / 'bench.db'}"})
    db.migrate(settings.database_url)
    knowledge.seed(settings.database_url, settings.city)
    return settings


def main(path: Path | None = None, live: bool = False, show_misses: bool = True) -> int:
    source = Path(path or DEFAULT_SET)
    if not source.is_file():
        print(f"no evaluation set at {source} (pass a file: hotline bench-triage FILE.toml)")
        return 2
    requests = load_set(source)
    base = get_settings()
    if live:
        report = evaluate(base, requests)
    else:
        with tempfile.TemporaryDirectory(prefix="bench-triage-") as tmp:
            report = evaluate(_fresh_settings(base, Path(tmp)), requests)
    if not show_misses:
        report.misses = []
    print(render(report, source))
    return 0
