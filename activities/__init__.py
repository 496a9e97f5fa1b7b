"""Every side effect of a ticket: routing from data, deliveries to units, callbacks, and the
read-model projection. Activities are methods of small classes holding their dependencies."""

from core.settings import Settings


def all_activities(settings: Settings) -> list:
    from activities.assessment import AssessmentActivities
    from activities.callback import CallbackActivities
    from activities.delivery import DeliveryActivities
    from activities.emergency import EmergencyActivities
    from activities.gateway import Http
    from activities.intake import IntakeActivities
    from activities.notify import NotifyActivities
    from activities.ownership import OwnershipActivities
    from activities.projection import ProjectionActivities
    from activities.triage_training import TriageTrainingActivities

    http = Http(settings.department_timeout)  # one connection pool for the worker's outside calls
    intake = IntakeActivities(settings)
    delivery = DeliveryActivities(settings, http)
    callback = CallbackActivities(settings, http)
    projection = ProjectionActivities(settings)
    notify = NotifyActivities(settings, http)
    ownership = OwnershipActivities(settings)
    emergency = EmergencyActivities(settings, http)
    assessment = AssessmentActivities(settings, http)
    training = TriageTrainingActivities(settings)
    return [
        intake.decide_intake,
        delivery.deliver,
        delivery.give_up_delivery,
        callback.request_callback,
        notify.notify_citizen,
        projection.project_ticket,
        ownership.resolve_units,
        ownership.save_responsibility_rule,
        emergency.transfer_emergency,
        assessment.produce_report,
        assessment.scan_surges,
        assessment.deliver_warning,
        training.train_triage_model,
    ]
