"""Project a ticket's masked live state into the read model (a local activity; an activity for the
runs that recorded the patch "projection-after-the-task"): one
version-guarded write (readmodel.projection.write_ticket)."""

from temporalio import activity

from core.settings import Settings
from domain.contracts import Projection
from readmodel import db
from readmodel.projection import write_ticket


class ProjectionActivities:
    def __init__(self, settings: Settings):
        self.settings = settings

    @activity.defn
    def project_ticket(self, projection: Projection) -> None:
        with db.get_engine(self.settings.database_url).begin() as conn:
            write_ticket(conn, projection)
