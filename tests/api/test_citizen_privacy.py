"""Who sees a citizen (README: "Who sees a citizen"): the lead unit while it handles the ticket,
the center and the desk on the phone with her see name and phone; the supervising department,
supervisors, leaders and the intake desk after intake see them masked, merged repeat callers
included, and the read model holds masked values only."""

from pathlib import Path

from sqlmodel import select

from domain.privacy import audience_table
from readmodel import db
from readmodel.tables import TicketRow
from tests.api.test_citizen_ends import _projected, _ticket
from tests.api.test_end_to_end import LEAD, fresh
from tests.eventually import assert_eventually

FILER, REPEAT = ("欧阳秀英", "13712340001"), ("司马建国", "13712340002")


async def test_every_viewer_sees_the_citizens_as_the_matrix_says(api):
    body = fresh()
    body["citizen"] = {"name": FILER[0], "phone": FILER[1]}
    number = (await _ticket(api, body)).json()["number"]
    await _projected(api, number, "dispatch")
    repeat = {**body, "citizen": {"name": REPEAT[0], "phone": REPEAT[1]}, "description": "再次反映：烧烤摊还在"}
    assert (await _ticket(api, repeat)).json()["number"] == number

    async def seen_by(role: str, unit: str | None = None) -> str:
        r = await api.http.get(f"/tickets/{number}", headers=api.auth(role, unit))
        assert r.status_code == 200, r.text
        return r.text

    async def merged():
        assert REPEAT[1] in await seen_by("center")

    await assert_eventually(merged)
    for role, unit in (("center", None), ("unit", LEAD)):
        text = await seen_by(role, unit)
        assert all(v in text for v in (*FILER, *REPEAT)), (role, unit)
    for role, unit in (("supervisor", None), ("leader", None), ("intake", None), ("unit", "qd.dept.urban")):
        text = await seen_by(role, unit)
        assert not any(v in text for v in (*FILER, *REPEAT)), (role, unit, text)
        assert "137****0001" in text and "137****0002" in text

    async def stored_masked():
        with db.session(api.settings.database_url) as session:
            row = session.exec(select(TicketRow).where(TicketRow.number == number)).one()
        assert "137****0002" in row.state_json
        assert not any(v in row.state_json for v in (*FILER, *REPEAT)), row.state_json

    await assert_eventually(stored_masked)


def test_the_readme_shows_the_matrix_the_code_applies():
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    assert audience_table() in readme, "README: paste domain.privacy.audience_table() under 'Who sees a citizen'"
