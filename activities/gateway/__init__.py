"""Adapters to the outside world over HTTP: department systems (docs/department-api.md), the SMS
provider and the automated callback channel. Each makes one attempt and says whether another may
help (gateway.http.Failure); Temporal's retry policies do the retrying."""

from activities.gateway.department import DepartmentApi
from activities.gateway.http import Failure, Http
from activities.gateway.sms import SmsGateway
from activities.gateway.survey import CallbackChannel

__all__ = ["CallbackChannel", "DepartmentApi", "Failure", "Http", "SmsGateway"]
