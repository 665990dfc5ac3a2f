"""The registry of row-level scope rules that model modules declare next to their model (portal.people.scoping
applies them). It imports nothing, so a model module imported while portal.people.scoping is itself still importing
portal.models can register its rule: ``from portal.people.rules import register_rule``."""
from __future__ import annotations

# Model → (read, write): read(scope) → criterion; write(scope, obj, deleting) → bool.
# read is called only for the employer and worker kinds (all sees everything, none nothing).
EXTRA_RULES: dict = {}


def register_rule(model, read, write) -> None:
    EXTRA_RULES[model] = (read, write)
