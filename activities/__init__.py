"""Every side effect of a ticket: routing from data, deliveries to units, callbacks, and the
read-model projection. Activities are methods of small classes holding their dependencies."""

from core.settings import Settings


def all_activities(settings: Settings) -> list:
    from activities.callback import CallbackActivities
    from activities.delivery import DeliveryActivities
    from activities.intake import IntakeActivities
    from activities.notify import NotifyActivities
    from activities.projection import ProjectionActivities

    intake = IntakeActivities(settings)
    delivery = DeliveryActivities(settings)
    callback = CallbackActivities(settings)
    projection = ProjectionActivities(settings)
    notify = NotifyActivities(settings)
    return [
        intake.decide_intake,
        delivery.deliver,
        callback.request_callback,
        notify.notify_citizen,
        projection.project_ticket,
    ]
