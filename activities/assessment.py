"""The assessment's side effects: producing and storing a report, scanning for surges, and
delivering an early warning to a unit through the same gateway as ticket deliveries (department
system, duty-phone SMS or the unit's inbox)."""

import asyncio
import json
import threading

from sqlmodel import select
from temporalio import activity

from activities.delivery import DeliveryActivities
from activities.gateway import Http
from catalog.cities import load_directory
from catalog.policies import load_pack
from core.logging import get_logger
from core.settings import Settings
from domain.assessment import Period, RaisedWarning, ReportInput, ReportReceipt, ScanInput, WarningDelivery
from domain.contracts import Delivery, DeliveryKind
from readmodel import assessment, db
from readmodel.tables import AssessmentReportRow, EarlyWarningRow, utcnow

# SQLite ignores FOR UPDATE: the deliveries of one warning finishing at once in this worker take turns here,
# so neither recipient is lost from delivered_to (PostgreSQL's row lock covers several workers).
_delivered_lock = threading.Lock()


class AssessmentActivities:
    def __init__(self, settings: Settings, http: Http | None = None):
        self.settings = settings
        self.delivery = DeliveryActivities(settings, http)

    @activity.defn
    def produce_report(self, input: ReportInput) -> ReportReceipt:
        """Compute the period's report and store it (a rerun for the same kind and period replaces it)."""
        period = Period.parse(input.period) if input.period else None
        if period is None or period.kind != input.kind.period_kind:
            raise ValueError(
                f"a {input.kind.value} report needs a {input.kind.period_kind.value} period, got {input.period}"
            )
        return produce(self.settings, input.kind, period, input.produced_by)

    @activity.defn
    def scan_surges(self, input: ScanInput) -> list[RaisedWarning]:
        rule = load_pack(self.settings.policy_pack).assessment.surge
        directory = load_directory(self.settings.city)
        at = input.at or utcnow()
        out = []
        with db.session(self.settings.database_url) as session:
            for w in assessment.scan_surges(session, at, rule):
                category = directory.categories.get(w.category)
                w.recipients = [u for u in dict.fromkeys([w.district, category.supervisor if category else None]) if u]
                session.add(w)
                place = "".join(
                    directory.units[u].name if u in directory.units else u for u in (w.district, w.street) if u
                )
                what = category.name if category else w.category
                message = (
                    f"未诉先办预警：{place}{w.community or ''}近{rule.window.in_words()}内「{what}」诉求{w.count}件"
                    f"（常态约{w.baseline:g}件），请提前研判处置"
                )
                out.append(RaisedWarning(id=w.id, recipients=list(w.recipients), message=message))
            session.commit()
        if out:
            get_logger("assessment").warning("early warnings raised", count=len(out), ids=[w.id for w in out])
        return out

    @activity.defn
    async def deliver_warning(self, input: WarningDelivery) -> bool:
        delivery = Delivery(
            ticket=f"W{input.warning}",
            workflow_id=activity.info().workflow_id,
            sequence=0,
            unit=input.unit,
            kind=DeliveryKind.early_warning,
            message=input.message,
            key=f"warning-{input.warning}-{input.unit}",
        )
        receipt = await self.delivery.deliver(delivery)
        await asyncio.to_thread(self._delivered, input.warning, input.unit)
        return receipt.delivered

    def _delivered(self, warning: int, unit: str) -> None:
        with _delivered_lock, db.session(self.settings.database_url) as session:
            # Both recipients' deliveries finish at once: lock the row (PostgreSQL) so neither is lost.
            row = session.get(EarlyWarningRow, warning, with_for_update=True)
            if row is not None and unit not in row.delivered_to:
                row.delivered_to = [*row.delivered_to, unit]
                session.add(row)
                session.commit()


def produce(settings: Settings, kind, period: Period, produced_by: str) -> ReportReceipt:
    rule = load_pack(settings.policy_pack).assessment
    directory = load_directory(settings.city)
    with db.session(settings.database_url) as session:
        content = assessment.report_content(session, directory, period, rule)
        content["generated_at"] = utcnow().isoformat()
        row = session.exec(
            select(AssessmentReportRow).where(
                AssessmentReportRow.kind == kind.value, AssessmentReportRow.period == period.label
            )
        ).first() or AssessmentReportRow(
            kind=kind.value, period=period.label, period_start=period.start, period_end=period.end, content_json="{}"
        )
        row.content_json = json.dumps(content, ensure_ascii=False)
        row.produced_by, row.created_at = produced_by[:120], utcnow()
        session.add(row)
        session.commit()
        return ReportReceipt(id=row.id, kind=kind, period=period.label, tickets=content["tickets"])
