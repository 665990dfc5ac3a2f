"""FAB screens and REST APIs, one module per concept; ``register`` adds them all to an AppBuilder."""
from portal.views import codes_import, masters, records
from portal.views import devices_admin, events_api
from portal.views import accounts, disclosure as disclosure_views, worker_portal
from portal.views import corrections as correction_views, work_calendar as calendar_views
from portal.views import reports as report_views
from portal.views import dashboard
from portal.views import safety as safety_views, safety_forms


def register(appbuilder) -> None:
    masters.register(appbuilder)
    codes_import.register(appbuilder)
    records.register(appbuilder)
    events_api.register(appbuilder)
    devices_admin.register(appbuilder)
    disclosure_views.register(appbuilder)
    accounts.register(appbuilder)
    worker_portal.register(appbuilder)
    correction_views.register(appbuilder)
    calendar_views.register(appbuilder)
    report_views.register(appbuilder)
    dashboard.register(appbuilder)
    safety_views.register(appbuilder)
    safety_forms.register(appbuilder)
