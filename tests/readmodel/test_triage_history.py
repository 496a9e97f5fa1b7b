"""A center's past tickets loaded with `hotline import-history FILE.csv`, and first-dispatch
accuracy (一次转办准确率) from the read model."""

import json
from datetime import UTC, datetime

from sqlmodel import select

from core.settings import get_settings
from hotline.cli import main
from readmodel import db
from readmodel.first_dispatch import first_dispatch
from readmodel.tables import TicketRow, TriageHistoryRow

CSV = """number,received_at,description,address,category,district,street,path,path_detail,first_unit,lead_unit
Q1,2026-10-02 08:30,楼下烧烤店油烟太大,市北区台东八路,餐饮油烟,,,,,台东街道,台东街道
Q2,2026-10-03,工地夜里打桩,李沧区九水街道,environment.noise,,,,,,九水街道
Q3,2026-10-04,有人打起来了,,,,,emergency_transfer,110,,
Q4,2026-10-05,没写事项的派单,市南区,,,,,,,
Q5,2026-10-06,事项写错了,市南区,不存在的事项,,,,,,
Q6,2026-10-07,承办单位写错了,市南区,噪声扰民,,,,,,火星街道
"""


def test_import_history_loads_the_rows_it_can_and_says_why_not_the_others(settings, tmp_path, monkeypatch, capsys):
    path = tmp_path / "past.csv"
    path.write_text(CSV, encoding="utf-8")
    monkeypatch.setenv("HOTLINE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        assert main(["import-history", str(path)]) == 0
        out = capsys.readouterr().out
        assert "3 ticket(s) added, 0 updated, 3 skipped" in out
        assert "needs its category" in out and "unknown category" in out and "火星街道" in out
        assert main(["import-history", str(path)]) == 0  # again: the same tickets, updated
        assert "0 ticket(s) added, 3 updated" in capsys.readouterr().out
    finally:
        get_settings.cache_clear()
    with db.session(settings.database_url) as session:
        rows = {r.external_id: r for r in session.exec(select(TriageHistoryRow)).all()}
    assert set(rows) == {"Q1", "Q2", "Q3"}
    assert rows["Q1"].category == "urban.cooking_fumes" and rows["Q1"].street == "qd.shibei.taidong"
    assert rows["Q1"].lead_unit == "qd.shibei.taidong" and rows["Q1"].district == "qd.shibei"
    assert rows["Q2"].street == "qd.licang.jiushui" and rows["Q2"].lead_unit == "qd.licang.jiushui"
    assert (rows["Q3"].path, rows["Q3"].path_detail) == ("emergency_transfer", "110")
    assert rows["Q1"].received_at.replace(tzinfo=UTC) == datetime(2026, 10, 2, 0, 30, tzinfo=UTC)


def _closed(number: str, category: str, first: str, lead: str, closed_at: datetime, **state) -> TicketRow:
    body = {"first_responsible_unit": first, "returns": [], "ruling": None, "previous_leads": [], **state}
    return TicketRow(
        number=number, workflow_id=f"ticket-{number}", stage="closed", tier="street", lead_unit=lead, category=category,
        urgency="normal", kind="complaint", channel="phone", intake_path="dispatch", closed_at=closed_at,
        state_json=json.dumps(body),
    )  # fmt: skip


def test_first_dispatch_accuracy_counts_tickets_closed_by_the_unit_first_dispatched_to(settings):
    oct_, nov = datetime(2026, 10, 20, 4, tzinfo=UTC), datetime(2026, 11, 3, 4, tzinfo=UTC)
    st, dept = "qd.shibei.taidong", "qd.dept.urban"
    returned = [{"unit": st, "status": "approved", "reassigned_to": dept}]
    with db.session(settings.database_url) as session:
        session.add_all([
            _closed("F1", "urban.cooking_fumes", st, st, oct_),
            _closed("F2", "urban.cooking_fumes", st, dept, oct_, returns=returned, previous_leads=[st]),
            _closed("F3", "environment.noise", st, st, nov),
            _closed("F4", "environment.noise", st, st, nov, ruling={"lead": st, "by": "leader"}),
            _closed("F5", "environment.noise", st, dept, nov, ruling={"lead": dept, "by": "leader"}),
            _closed("F6", "environment.noise", st, st, nov, returns=[{"unit": st, "status": "rejected"}]),
        ])  # fmt: skip
        open_ = _closed("F7", "environment.noise", st, st, nov)
        open_.closed_at = None
        session.add(open_)
        session.commit()
    every = first_dispatch(settings.database_url)
    assert (every.tickets, every.kept) == (6, 4)
    assert [(m.month, m.tickets, m.kept) for m in every.by_month] == [("2026-10", 2, 1), ("2026-11", 4, 3)]
    by_cat = {c.category: (c.tickets, c.kept, c.rate) for c in every.by_category}
    assert by_cat == {"environment.noise": (4, 3, 0.75), "urban.cooking_fumes": (2, 1, 0.5)}
    since = datetime(2026, 11, 1, tzinfo=UTC)
    assert first_dispatch(settings.database_url, since=since).tickets == 4
