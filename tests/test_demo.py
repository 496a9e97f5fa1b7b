"""`hotline demo` against `hotline up`: a short, fast day leaves tickets across the lifecycle —
closed through callbacks, taken at the desk, joined as repeats, escalated, handled by the
simulated departments — and says so in its summary."""

import subprocess

import httpx

from api.auth import mint
from core.settings import Settings
from domain.vocabulary import Role
from hotline.demo import PLOTS, load_day, schedule
from tests.stack import BIN, FAST_SIMULATOR, running_stack


def test_the_shipped_day_uses_the_citys_categories_and_streets():
    from catalog.cities import load_directory

    directory = load_directory("qingdao")
    names = {u.name: u for u in directory.units.values()}
    day = load_day()
    assert len(day) >= 30
    for r in day:
        assert r["category"] in directory.categories, r
        assert names[r["street"]].parent == names[r["district"]].id, r
        assert r.get("plot", "handle") in PLOTS
    assert {r["channel"] for r in day} >= {"phone", "app", "wechat", "web", "grid", "mailbox"}
    assert sum("repeats" in r for r in day) >= 2 and sum("emergency" in r for r in day) >= 2
    # A second run gets other phone numbers (new tickets, not repeats of the first run's); a
    # repeat keeps its original's number within the run.
    first, second = schedule(day, None, "run-a"), schedule(day, None, "run-b")
    assert {r["phone"] for r in first}.isdisjoint({r["phone"] for r in second})
    by_index = {r["index"]: r for r in first}
    same_citizen = [r for r in first if "repeats" in r and r["name"] == by_index[r["repeats"]]["name"]]
    assert same_citizen and all(by_index[r["repeats"]]["phone"] == r["phone"] for r in same_citizen)


def test_a_short_fast_day_leaves_tickets_across_the_lifecycle(tmp_path):
    with running_stack(tmp_path, FAST_SIMULATOR) as stack:
        run = subprocess.run(
            [str(BIN / "hotline"), "demo", "--speed", "3000", "--tickets", "24", "--settle", "20", "--seed", "7",
             "--url", stack.url, "--simulator-url", stack.simulator_url],
            env=stack.env, capture_output=True, text=True, timeout=150, check=False,
        )  # fmt: skip
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
        center = {"Authorization": f"Bearer {mint(Settings().token_secret.get_secret_value(), Role.center, 'test')}"}
        listed = httpx.get(f"{stack.url}/tickets", params={"page_size": 200}, headers=center, timeout=30).json()
        stats = httpx.get(f"{stack.url}/stats/intake", headers=center, timeout=30)
    items = listed["items"]
    stages = {t["stage"] for t in items}
    assert listed["total"] >= 20 and {"closed", "dispatch"} <= stages, stages  # the late one waits, unsigned
    assert len({t["district"] for t in items}) >= 4 and len({t["channel"] for t in items}) >= 5
    assert any(t["tier"] != "street" for t in items), "the ticket nobody signed for was escalated"
    assert stats.status_code == 200
    out = run.stdout
    for said in ("direct_answer", "legal_channel", "emergency_transfer", "joined to an open ticket: 2",
                 "callback", "urge", "escalate", "consultation", "return-decision"):  # fmt: skip
        assert said in out, (said, out[-3000:])
    assert "tickets handled by simulated departments" in out
