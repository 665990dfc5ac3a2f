"""The published OpenAPI document says what the REST APIs really answer: FAB's generated spec is corrected where
its bodies differ from it (schemathesis checks every answer's body, content type and headers against it:
tests/test_schemathesis.py), and the answers are corrected where the spec is right.

- Row ids are integers (FAB declares the ``id`` of an item and the ``ids`` of a list as strings).
- ``_info``'s add_columns / edit_columns are lists of field descriptions (FAB declares objects).
- A related row that may be missing (a nullable foreign key: not in the schema's ``required``) is null.
- Times carry their UTC offset: SQLite hands back naive values (UTC), which would read as local times.
"""
from __future__ import annotations

import datetime

from flask_appbuilder.api.convert import Model2SchemaConverter

RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before retrying", "schema": {"type": "integer"}}}

FIELD_INFO = {"type": "array", "description": "One entry per column the form accepts", "items": {
    "type": "object", "required": ["name", "label", "description", "type", "required", "unique"],
    "properties": {
        "name": {"type": "string"},
        "label": {"type": "string", "description": "Japanese label (English with Accept-Language: en)"},
        "description": {"type": "string"},
        "type": {"type": "string", "description": "The marshmallow field class (String, Related …)"},
        "required": {"type": "boolean"},
        "unique": {"type": "boolean"},
        "count": {"type": "integer", "description": "Related columns: how many rows may be chosen"},
        "values": {"type": "array", "description": "Related columns: the rows that may be chosen", "items": {
            "type": "object", "properties": {"id": {"type": "integer"}, "value": {"type": "string"}}}},
        "validate": {"type": "array", "items": {"type": "string"}},
    }}}


def _body(operation: dict, status: str) -> dict | None:
    """The inline JSON schema of one answer of an operation (None when it is a $ref or absent)."""
    response = operation.get("responses", {}).get(status, {})
    return response.get("content", {}).get("application/json", {}).get("schema")


def conform_operation(path: str, method: str, operation: dict) -> None:
    """Correct one FAB operation's answer schemas in place."""
    for status in ("200", "201"):
        schema = _body(operation, status)
        properties = (schema or {}).get("properties", {})
        if "id" in properties:
            properties["id"] = {"type": "integer", "description": "The item id"}
        if "ids" in properties:
            properties["ids"]["items"] = {"type": "integer"}
        if path.endswith("/_info") and method == "get":
            for key in ("add_columns", "edit_columns"):
                if key in properties:
                    properties[key] = FIELD_INFO
    for status, response in operation.get("responses", {}).items():
        if status == "503" and "$ref" not in response:
            response.setdefault("headers", {}).update(RETRY_AFTER)


def conform_component(components: dict, name: str, marshmallow_schema) -> None:
    """A related row of a dump schema, as the schema's own fields say: a list when it is one-to-many (FAB's spec
    gives a single object), and null when it is one row that may be missing or outside the caller's scope
    (OpenAPI 3.0 ignores the siblings of a $ref, hence allOf). Nested schemas are corrected too."""
    from marshmallow import fields

    schema = components.get(name)
    if schema is None or marshmallow_schema is None:
        return
    for field_name, field in marshmallow_schema.fields.items():
        prop = schema.get("properties", {}).get(field_name, {})
        if not isinstance(field, fields.Nested) or "$ref" not in prop:
            continue
        ref = prop["$ref"]
        if field.many:
            schema["properties"][field_name] = {"type": "array", "items": {"$ref": ref}}
        else:
            schema["properties"][field_name] = {"allOf": [{"$ref": ref}], "nullable": True}
        conform_component(components, ref.rsplit("/", 1)[1], field.schema)


def aware_times(marshmallow_schema) -> None:
    """Every DateTime field of a dump schema (nested ones too) writes a naive value as UTC with its offset."""
    from marshmallow import fields

    if marshmallow_schema is None:  # a read-only API has no add / edit schema
        return
    for field in marshmallow_schema.fields.values():
        if isinstance(field, fields.DateTime) and not getattr(field, "_ccus_aware", False):
            serialize = field._serialize

            def _serialize(value, attr, obj, _serialize=serialize, **kwargs):
                if isinstance(value, datetime.datetime) and value.tzinfo is None:
                    value = value.replace(tzinfo=datetime.UTC)
                return _serialize(value, attr, obj, **kwargs)

            field._serialize, field._ccus_aware = _serialize, True
        elif isinstance(field, fields.Nested):
            aware_times(field.schema)


class SchemaConverter(Model2SchemaConverter):
    """FAB's converter; the schemas it makes (at start-up, and per request for ``select_columns``) write aware times."""

    def convert(self, *args, **kwargs):
        schema = super().convert(*args, **kwargs)
        aware_times(schema)
        return schema
