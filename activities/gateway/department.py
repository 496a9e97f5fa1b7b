"""The department-system API, client side: a delivery becomes one POST to the unit's endpoint."""

from pydantic import ValidationError

from activities.gateway.http import Failure, Http
from core.settings import Settings
from domain.contracts import Delivery
from domain.department_api import DeliveryAnswer, message_of
from readmodel.tables import UnitRow


class DepartmentApi:
    def __init__(self, http: Http, settings: Settings):
        self.http = http
        self.settings = settings

    async def send(self, unit: UnitRow, delivery: Delivery, timeout: float | None = None) -> DeliveryAnswer:
        """One attempt; the same Idempotency-Key on every retry, so the department acts once."""
        try:
            route, body = message_of(delivery)
        except ValueError as e:  # a delivery the contract cannot carry: asking again will not help
            raise Failure(str(e), retryable=False) from e
        if not unit.endpoint:
            raise Failure(f"unit {unit.id} has no department-system endpoint", retryable=False)
        headers = {"Idempotency-Key": delivery.idempotency_key}
        if unit.credential_ref:
            headers["Authorization"] = f"Bearer {self.settings.department_credential(unit.credential_ref)}"
        response = await self.http.post(f"{unit.endpoint.rstrip('/')}/{route.value}", body, headers, timeout)
        try:
            return DeliveryAnswer.model_validate_json(response.content)
        except ValidationError:
            return DeliveryAnswer()  # a 2xx is a delivery, whatever the body says
