"""The core's own device type `api` (外部システム連携): external and certified linked systems post worker IDs
directly. Written as a plugin of the same contract as every vendor's, so the contract is exercised by the core."""
from portal.devices import DeviceType, hookimpl


@hookimpl
def ccus_device_types():
    return [DeviceType(code="api", label="外部システム連携", mark="API")]
