"""Every side effect of a ticket: routing from data, deliveries to units, callbacks, and the
read-model projection. Activities are methods of small classes holding their dependencies."""

from core.settings import Settings


def all_activities(settings: Settings) -> list:
    from activities.callback import CallbackActivities
    from activities.delivery import DeliveryActivities
    from activities.emergency import EmergencyActivities
    from activities.gateway import Http
    from activities.intake import IntakeActivities
    from activities.notify import NotifyActivities
    from activities.projection import ProjectionActivities
    from activities.responsibility import ResponsibilityActivities

    http = Http(settings.department_timeout)  # one connection pool for the worker's outside calls
    intake = IntakeActivities(settings)
    delivery = DeliveryActivities(settings, http)
    callback = CallbackActivities(settings, http)
    projection = ProjectionActivities(settings)
    notify = NotifyActivities(settings, http)
    responsibility = ResponsibilityActivities(settings)
    emergency = EmergencyActivities(settings, http)
    return [
        intake.decide_intake,
        delivery.deliver,
        delivery.give_up_delivery,
        callback.request_callback,
        notify.notify_citizen,
        projection.project_ticket,
        responsibility.resolve_units,
        responsibility.save_responsibility_rule,
        emergency.transfer_emergency,
    ]
