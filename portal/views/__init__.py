"""FAB screens and REST APIs, one module per concept; ``register`` adds them all to an AppBuilder."""
from portal.views import masters, records


def register(appbuilder) -> None:
    masters.register(appbuilder)
    records.register(appbuilder)
