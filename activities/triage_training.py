"""Retraining the intake triage model (the TriageTrainingWorkflow's one activity): the city's
data, the seed corpus and the center's history as they are now, a new version when they changed."""

from pydantic import BaseModel
from temporalio import activity

from core.logging import get_logger
from core.settings import Settings


class TrainingRequest(BaseModel):
    by: str = "schedule"
    force: bool = False  # train even when the training data has not changed


class TrainingResult(BaseModel):
    version: int
    trained: bool  # False: the data had not changed, the active version stays
    previous_version: int | None
    samples: dict[str, float]
    held_out: dict[str, float | int | None]


class TriageTrainingActivities:
    def __init__(self, settings: Settings):
        self.settings = settings

    @activity.defn
    def train_triage_model(self, request: TrainingRequest) -> TrainingResult:
        from readmodel import knowledge, triage_models

        log = get_logger("triage-training", workflow_id=activity.info().workflow_id)
        url = self.settings.database_url
        knowledge.seed(url, self.settings.city)  # a first start: the starter articles train too
        before = triage_models.active_row(url)
        row, trained = triage_models.train_version(self.settings, by=request.by, force=request.force)
        d = triage_models.describe(row)
        log.info("triage training", version=row.version, trained=trained, previous=before.version if before else None)
        return TrainingResult(
            version=row.version, trained=trained, previous_version=before.version if before else None,
            samples=d["samples"], held_out=d["held_out"],
        )  # fmt: skip
