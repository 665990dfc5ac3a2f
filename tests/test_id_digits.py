"""IDs accept ASCII and full-width digits only (issue 15), on every stored 14-digit ID column, whatever path sets
it (form, API, CLI, import all set the attribute): each column of the models that holds a 技能者ID, 事業者ID or
現場ID is found from the mapped tables, so a new one is checked too. The events API's worker_code:
tests/test_hostile_input.py."""
from __future__ import annotations

import pytest
from flask_appbuilder import Model
from sqlalchemy import String

import portal.models  # noqa: F401  (registers every model)
from portal.app.errors import DomainError

pytestmark = pytest.mark.once  # no database: the PostgreSQL pass of ./dev.sh test leaves it out

MEGURO = "30154216388821"
OTHER_SCRIPTS = {"arabic-indic": "٣٠١٥٤٢١٦٣٨٨٨٢١", "devanagari": "३०१५४२१६३८८८२१", "mathematical": "𝟑𝟎𝟏𝟓𝟒𝟐𝟏𝟔𝟑𝟖𝟖𝟖𝟐𝟏",
                 "superscript": "³⁰¹⁵⁴²¹⁶³⁸⁸⁸²¹", "nul": MEGURO + "\x00"}


def _id_columns() -> list[tuple[type, str]]:
    """(model, attribute) of every unique 14-character string column: the CCUS IDs."""
    found = []
    for mapper in Model.registry.mappers:
        for column in mapper.columns:
            if isinstance(column.type, String) and column.type.length == 14 and column.unique:
                found.append((mapper.class_, mapper.get_property_by_column(column).key))
    return found


def test_every_id_column_is_found():
    names = {(model.__name__, attr) for model, attr in _id_columns()}
    assert {("Worker", "worker_id"), ("Employer", "employer_id"), ("Site", "site_id")} <= names, names


@pytest.mark.parametrize("model,attr", _id_columns(), ids=lambda x: getattr(x, "__name__", x))
def test_an_id_column_refuses_other_scripts_and_stores_full_width_as_ascii(model, attr):
    for script, value in OTHER_SCRIPTS.items():
        with pytest.raises(DomainError) as refused:
            setattr(model(), attr, value)
        assert refused.value.code.startswith("invalid_") and "14桁の数字" in refused.value.message, script
    row = model()
    setattr(row, attr, MEGURO.translate(str.maketrans("0123456789", "０１２３４５６７８９")))
    assert getattr(row, attr) == MEGURO
