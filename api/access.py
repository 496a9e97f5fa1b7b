"""Who may call what: the one table the README shows (tests/test_readme.py keeps them equal) and
tests/api/test_roles.py calls route by route, identity by identity.

✓: the call passes the role check (the ticket's state may still refuse it: 409). ✗: 403.
Without a valid token (none, garbage, expired, signed with another secret, alg=none) every call
is a 401, except those marked "no token". The workbench's calls (/workbench/api/) take a token
like the rest and, from a signed-in browser, its session cookie in the token's place; those
marked "session cookie only" answer a token with 401."""

IDENTITIES = ("intake", "unit_a", "unit_b", "sector", "supervisor", "center", "leader")
HEADINGS = {
    "intake": "intake",
    "unit_a": "lead unit",
    "unit_b": "other unit",
    "sector": "supervising dept",
    "supervisor": "supervisor",
    "center": "center",
    "leader": "leader",
}
ALL = IDENTITIES
CENTER_STAFF = ("intake", "supervisor", "center", "leader")
UNITS = ("unit_a", "unit_b", "sector")
NO_TOKEN = "no token"
SESSION_ONLY = "session cookie only"
# Open311's own credential: the api_key of a registered client application, in the form (GeoReport
# v2). A bearer token, good or bad, does not post a request: every identity here is a 403 without one.
OPEN311_KEY = "an Open311 client's api_key (none of these)"
OFFICE = ("supervisor", "center", "leader")  # the assessment office: the whole city's figures
VIEWERS = (*UNITS, *OFFICE)  # units see their own figures

# (method, path, who passes, note)
ACCESS: list[tuple[str, str, tuple[str, ...], str]] = [
    ("POST", "/triage", ("intake", "supervisor", "center"), ""),
    ("POST", "/tickets", ("intake", "center"), ""),
    ("GET", "/tickets", ALL, "units: their own"),
    ("GET", "/tickets/{number}", ("intake", "unit_a", "sector", "supervisor", "center", "leader"), "units: their own"),
    ("POST", "/tickets/{number}/emergency-follow-up", ("supervisor", "center"), ""),
    ("POST", "/tickets/{number}/acknowledge", ("unit_a",), ""),
    ("POST", "/tickets/{number}/progress", ("unit_a",), "or the coordinator"),
    ("POST", "/tickets/{number}/complete", ("unit_a",), "or the coordinator"),
    ("POST", "/tickets/{number}/whistle", ("unit_a",), "a lead street"),
    ("POST", "/tickets/{number}/escalate", ("unit_a", "supervisor", "center"), "the lead street if the pack allows"),
    ("POST", "/tickets/{number}/urge", ("sector", "supervisor", "center"), ""),
    ("POST", "/tickets/{number}/extension-request", ("unit_a",), "or the coordinator"),
    ("POST", "/tickets/{number}/extension-decision", ("center",), ""),
    ("POST", "/tickets/{number}/return-request", ("unit_a",), ""),
    ("POST", "/tickets/{number}/return-decision", ("center",), ""),
    ("POST", "/tickets/{number}/return-dispute", ("unit_a",), ""),
    ("POST", "/tickets/{number}/consultation", ("center", "leader"), ""),
    ("POST", "/tickets/{number}/consultation/answer", UNITS, "an invited unit; 409 without an open round"),
    ("POST", "/tickets/{number}/ruling", ("leader",), ""),
    ("POST", "/tickets/{number}/report", (), "only a cooperating unit (none of these)"),
    ("POST", "/tickets/{number}/callback", ("intake", "supervisor", "center"), ""),
    ("GET", "/callbacks", CENTER_STAFF, ""),
    ("GET", "/clearing-list", CENTER_STAFF, ""),
    ("GET", "/stats/intake", CENTER_STAFF, ""),
    ("GET", "/stats/first-dispatch", CENTER_STAFF, ""),
    ("GET", "/knowledge", ALL, ""),
    ("GET", "/knowledge/search", ALL, ""),
    ("GET", "/knowledge/{article_id}", ALL, ""),
    ("POST", "/knowledge", ("supervisor", "center"), ""),
    ("PUT", "/knowledge/{article_id}", ("supervisor", "center"), ""),
    ("DELETE", "/knowledge/{article_id}", ("supervisor", "center"), ""),
    ("POST", "/public/tickets/{number}/lookup", ALL, NO_TOKEN),
    ("POST", "/public/tickets/{number}/rating", ALL, NO_TOKEN),
    ("GET", "/deliveries", (*UNITS, "supervisor", "center", "leader"), "units: their own"),
    ("POST", "/deliveries/{key}/resend", ("supervisor", "center"), "404 for an unknown delivery"),
    ("GET", "/work-orders", UNITS, "a unit's system: its own open work orders"),
    ("GET", "/health", ALL, NO_TOKEN),
    ("GET", "/health/live", ALL, NO_TOKEN),
    ("GET", "/health/ready", ALL, NO_TOKEN),
    ("GET", "/categories", ALL, ""),
    ("GET", "/units", ALL, ""),
    ("GET", "/units/{unit_id}", ALL, ""),
    ("POST", "/calendar/apply", ("center",), ""),
    ("POST", "/codec/decode", ("center",), ""),
    ("POST", "/codec/encode", ("center",), ""),
    ("GET", "/responsibility-rules", ("supervisor", "center", "leader"), ""),
    ("POST", "/workbench/api/login", ALL, f"{NO_TOKEN}: a password and the sign-in page's CSRF cookie"),
    ("GET", "/workbench/api/me", (), SESSION_ONLY),
    ("POST", "/workbench/api/logout", ALL, f"{NO_TOKEN}: ends the cookie's session, if any"),
    ("GET", "/workbench/api/users", ("center",), ""),
    ("POST", "/workbench/api/users", ("center",), ""),
    ("PATCH", "/workbench/api/users/{username}", ("center",), ""),
    ("GET", "/workbench/api/worklist", ALL, "units: their own; others name the unit"),
    ("GET", "/workbench/api/queues/{name}", CENTER_STAFF, ""),
    ("GET", "/workbench/api/overview", CENTER_STAFF, ""),
    ("GET", "/workbench/api/merge-candidates", CENTER_STAFF, ""),
    ("GET", "/open311/v2/services.{fmt}", ALL, NO_TOKEN),
    ("GET", "/open311/v2/services/{name}", ALL, NO_TOKEN),
    ("POST", "/open311/v2/requests.{fmt}", (), OPEN311_KEY),
    ("GET", "/open311/v2/requests.{fmt}", ALL, f"{NO_TOKEN}; no citizen's name or phone"),
    ("GET", "/open311/v2/requests/{name}", ALL, f"{NO_TOKEN}; no citizen's name or phone"),
    ("GET", "/open311/v2/tokens/{name}", ALL, NO_TOKEN),
    # The assessment (考核): the office sees the city, a unit its own figures ({unit}: the lead unit).
    ("GET", "/assessment/rankings", VIEWERS, "units: their own line"),
    ("GET", "/assessment/units/{unit}", ("unit_a", *OFFICE), "units: their own"),
    ("GET", "/assessment/units/{unit}/tickets", ("unit_a", *OFFICE), "units: their own"),
    ("GET", "/assessment/exclusions", OFFICE, ""),
    ("POST", "/assessment/exclusions", ("center", "leader"), ""),
    ("DELETE", "/assessment/exclusions/{number}", ("center", "leader"), "404 if not ruled out"),
    ("GET", "/assessment/reports", OFFICE, ""),
    ("POST", "/assessment/reports", ("center", "leader"), ""),
    ("GET", "/assessment/reports/{report_id}", OFFICE, ""),
    ("GET", "/assessment/reports/{report_id}/download", OFFICE, ""),
    ("GET", "/assessment/warnings", VIEWERS, "units: those sent to them"),
    ("GET", "/assessment/focus/candidates", OFFICE, ""),
    ("GET", "/assessment/focus/{month}", OFFICE, ""),
    ("PUT", "/assessment/focus/{month}", ("leader",), ""),
    ("GET", "/assessment/focus/{month}/tickets", OFFICE, ""),
]


def access_table() -> str:
    """The matrix as the README shows it."""
    head = "| call | " + " | ".join(HEADINGS[i] for i in IDENTITIES) + " | note |"
    rows = [head, "|---|" + "---|" * len(IDENTITIES) + "---|"]
    for method, path, who, note in ACCESS:
        cells = " | ".join("✓" if i in who else "✗" for i in IDENTITIES)
        rows.append(f"| `{method} {path}` | {cells} | {note} |")
    return "\n".join(rows)
