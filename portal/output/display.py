"""How a stored value reads on a screen: a code as its Japanese label (portal.people.glossary), a boolean as ○ or ―,
nothing as blank, a moment in Tokyo time with its zone and without microseconds (portal.app.clock), a row by its
name and a list of rows joined. FAB's generated lists and detail pages pass every value through :func:`shown`
(portal.views.base.PortalInterface), so no screen prints Python's True, None or ``<… object at 0x…>``."""
from __future__ import annotations

import datetime

from markupsafe import Markup

from portal.app.clock import tokyo_text
from portal.people.glossary import NO, YES, value_label


def shown(model: str | None, column: str, value):
    """The text a screen shows for ``value`` of ``model.column`` (Markup a formatter produced is kept)."""
    if isinstance(value, Markup):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return YES if value else NO
    if isinstance(value, datetime.datetime):
        return tokyo_text(value)
    if isinstance(value, datetime.date):
        return value.strftime("%Y/%m/%d")
    if isinstance(value, (list, tuple, set, frozenset)):
        return "、".join(str(shown(model, column, v)) for v in value if v is not None)
    label = value_label(model, column, value)
    if label is not value:
        return label
    if isinstance(value, (str, int, float)):
        return value
    if type(value).__str__ is object.__str__:
        return ""  # a row without a name of its own: never "<… object at 0x…>"
    return str(value)  # a related row: its own __str__ (its name)


def install(app) -> None:
    """Jinja filters for hand-written templates: ``|tokyo`` (a moment), ``|shown`` (any value),
    ``|device_type_label`` (a device type's code)."""
    from portal.people.glossary import device_type_label

    app.jinja_env.filters["tokyo"] = tokyo_text
    app.jinja_env.filters["shown"] = lambda value, column="": shown(None, column, value)
    app.jinja_env.filters["device_type_label"] = device_type_label
