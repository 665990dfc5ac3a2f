"""What every generated screen and REST API of the portal shares: Japanese labels from the glossary, ID
validators that give a Japanese message, and registration that declares a view and its roles together.
Labels, titles and menus are lazy translations with the Japanese text as msgid (English: portal/translations);
menu and permission names stay plain Japanese."""
from __future__ import annotations

from flask import Response, abort, current_app, request
from flask_appbuilder import ModelRestApi, ModelView
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from wtforms import BooleanField
from wtforms.fields.core import UnboundField
from wtforms.validators import DataRequired, InputRequired, ValidationError

from portal.app.list_guards import ListGuards
from portal.app import api_spec as portal_spec, errors
from portal.ingest.batch_json import plain_json
from portal.output.display import shown
from portal.app.errors import DomainError
from portal.people.glossary import labels
from portal.app.ids import validate_ccus_id
from portal.people.security import grant


class CcusId:
    """WTForms validator: a 14-digit ID, unique across the whole table (checked on the table itself, so that
    an ID held by a row outside the user's scope is still refused, without showing that row)."""

    def __init__(self, kind: str, model=None, column: str | None = None):
        self.kind, self.model, self.column = kind, model, column

    def __call__(self, form, field):
        try:
            field.data = validate_ccus_id(field.data, self.kind)
        except DomainError as e:
            raise ValidationError(e.message) from e
        if self.model is not None:
            table = self.model.__table__
            stmt = select(table.c.id).where(table.c[self.column] == field.data)
            found = current_app.appbuilder.session.execute(stmt).scalar()
            if found is not None and str(found) != str(getattr(form, "_id", None)):
                raise ValidationError(f"この{field.label.text}は既に登録されています。")


def _all_columns(view) -> list[str]:
    cols = list(view.datamodel.get_columns_list())
    for attr in ("list_columns", "show_columns", "add_columns", "edit_columns", "search_columns"):
        cols += list(getattr(view, attr, None) or [])
    return cols


class PortalInterface(SQLAInterface):
    """FAB's interface, remembering a DomainError raised by the flush (scope, validation) so the screen shows
    its Japanese message instead of FAB's generic "Database Error"; the session is rolled back."""

    def _guard(self, call, *args):
        from flask import g

        try:
            return call(*args)
        except DomainError as e:
            self.session.rollback()
            g.ccus_domain_error = e
            raise

    def add(self, item, commit: bool = True) -> None:
        self._guard(super().add, item, commit)

    def edit(self, item, commit: bool = True) -> None:
        self._guard(super().edit, item, commit)

    def delete(self, item, commit: bool = True) -> None:
        self._guard(super().delete, item, commit)

    # what lists and detail pages print: labels, ○/―, Tokyo time (portal.output.display), never a raw value
    def get_values(self, lst, list_columns):
        from portal.people.offers import row_buttons

        model, items = self.obj.__name__, list(lst)
        for item, row in zip(items, super().get_values(items, list_columns)):
            yield {**{c: shown(model, c, v) for c, v in row.items()}, **row_buttons(item)}

    def get_values_item(self, item, show_columns):
        model = self.obj.__name__
        return [shown(model, c, v) for c, v in zip(show_columns, super().get_values_item(item, show_columns))]


class PortalModelView(ListGuards, ModelView):
    page_size = 25

    @property
    def database_error_message(self):
        from flask import g

        error = g.pop("ccus_domain_error", None)
        return error.message if error is not None else lazy_gettext("Database Error")

    def __init__(self, **kwargs):
        own = {c: lazy_gettext(v) if isinstance(v, str) else v for c, v in (self.label_columns or {}).items()}
        self.label_columns = {**labels(*_all_columns(self)), **own}
        super().__init__(**kwargs)
        for form in (self.add_form, self.edit_form):
            _optional_checkboxes(form)
        # FAB offers plain Python properties (技能レベル, 職種 …) as sortable; the database cannot sort by them
        self.order_columns = [c for c in self.order_columns if not _is_property(self.datamodel, c)]

    # The add button and the add URL (GET and POST) follow the same rule: offered, and opened, only where some row
    # the principal could fill in passes the write rule (portal.people.offers.may_add); otherwise the Japanese 403.
    # The bulk actions shown are those the view offers the principal (ListGuards.offered_actions).
    def _get_list_widget(self, *args, **kwargs):
        from portal.people.offers import may_add

        widgets = super()._get_list_widget(*args, **kwargs)
        args_ = widgets["list"].template_args
        offered = self.offered_actions()
        args_["ccus_add"] = may_add(self.datamodel.obj)
        args_["actions"] = {name: a for name, a in (args_.get("actions") or {}).items() if name in offered}
        return widgets

    def _add(self):
        from portal.people.offers import may_add

        if not may_add(self.datamodel.obj):
            abort(errors.error_response(403, *NOT_ADDABLE))
        return super()._add()

    # An edit or delete URL opened for a row the principal may read but not change answers the Japanese 403 page
    # (no form that would end in a refusal): the same rule as the list's buttons (portal.people.offers) and the flush.
    def _edit(self, pk):
        self._refuse_unless_writable(pk, deleting=False)
        return super()._edit(pk)

    def _delete(self, pk):
        self._refuse_unless_writable(pk, deleting=True)
        return super()._delete(pk)

    def _refuse_unless_writable(self, pk, deleting: bool) -> None:
        from portal.people.offers import may_change

        item = self.datamodel.get(pk, self._base_filters)
        if item is None:
            abort(404)  # not there, or outside the principal's scope: the same answer
        if not may_change(item, deleting=deleting):
            abort(errors.error_response(403, *READ_ONLY_ROW))



READ_ONLY_ROW = ("read_only_row", "このデータは閲覧のみで、変更・削除する権限がありません。")
NOT_ADDABLE = ("not_addable", "この一覧に新規登録する権限がありません。登録できるのは、自社・自社の技能者・担当する現場の分だけです。")


def _is_property(datamodel, column: str) -> bool:
    return isinstance(getattr(datamodel.obj, column, None), property)


def _optional_checkboxes(form) -> None:
    """FAB marks a NOT NULL boolean as required, and an unchecked box (False) then fails that check; an
    unchecked box is a valid answer (無), so drop that validator from checkboxes."""
    for name in dir(form):
        field = getattr(form, name, None)
        if isinstance(field, UnboundField) and issubclass(field.field_class, BooleanField):
            field.kwargs["validators"] = [v for v in field.kwargs.get("validators", [])
                                          if not isinstance(v, (DataRequired, InputRequired))]


class PortalApi(errors.JsonAnswers, ModelRestApi):
    """REST API over a model: JWT only (no cookie-authenticated writes), rows scoped like every query.
    Errors answer with a stable ``code`` and a Japanese ``message``; nothing stored changes."""

    allow_browser_login = False
    page_size = 25
    max_page_size = 100
    model2schemaconverter = portal_spec.SchemaConverter  # times with their UTC offset
    responses = {str(status): {"description": f"{code}: {message}",
                               "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PortalError"}}}}
                 for status, (code, message) in errors.HTTP_ERRORS.items()}
    responses["503"]["headers"] = portal_spec.RETRY_AFTER

    def add_apispec_components(self, api_spec):
        """The error answers as they are (code, Japanese message, FAB's detail), replacing FAB's {message} ones."""
        super().add_apispec_components(api_spec)
        if "PortalError" not in api_spec.components.schemas:
            api_spec.components.schema("PortalError", {"type": "object", "required": ["code", "message"], "properties": {
                "code": {"type": "string"}, "message": {"description": "Japanese text (per field for validation_error)"},
                "detail": {"description": "FAB's own explanation, when it gave one"}}})
        api_spec.components.responses.update(self.responses)
        for name, schema in ((self.list_model_schema_name, self.list_model_schema),
                             (self.show_model_schema_name, self.show_model_schema)):
            portal_spec.conform_component(api_spec.components.schemas, name, schema)

    def add_api_spec(self, api_spec):
        """Every operation also lists what any request may meet: 503 (database away) and 500, 409/413 on writes."""
        before = set(api_spec._paths)
        super().add_api_spec(api_spec)
        for path in set(api_spec._paths) - before:
            for method, operation in api_spec._paths[path].items():
                portal_spec.conform_operation(path, method, operation)
                extra = ["400", "401", "403", "404", "500", "503"] + (["405"] if "{pk}" in path else [])  # pk not a number
                if method in ("post", "put", "delete"):
                    extra += ["409", "413", "422"]
                for status in extra:
                    operation.setdefault("responses", {}).setdefault(status, {"$ref": f"#/components/responses/{status}"})

    def __init__(self, **kwargs):
        self.label_columns = {**labels(*list(self.datamodel.get_columns_list())), **(self.label_columns or {})}
        super().__init__(**kwargs)

    def _get_field_info(self, field, filter_rel_field, page=None, page_size=None):
        info = super()._get_field_info(field, filter_rel_field, page=page, page_size=page_size)
        if not self.description_columns.get(field.name):  # gettext("") is the catalogue's header, not a description
            info["description"] = ""
        return info

    @staticmethod
    def valid_pk(pk) -> bool:
        """Row ids are 32-bit serials: anything else names no row (and would overflow the database's integer)."""
        text = str(pk)
        return text.isascii() and text.isdigit() and 0 < int(text) <= MAX_PK

    def _object_body(self) -> Response | None:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return self.error(400, "invalid_body", "本文はJSONオブジェクトで送信してください。")
        if not plain_json(body, max_depth=8):  # NUL or a lone surrogate no database column holds, NaN, deep nesting
            return self.error(400, "invalid_value", "保存できない値（NUL文字・不正な文字・NaN・深すぎる入れ子）が含まれています。")
        return None

    def response_422(self, message=None):
        # A field error raised by api_id_validator carries its own code: surface it as the answer's code.
        codes = [m["code"] for msgs in (message or {}).values() if isinstance(msgs, list)
                 for m in msgs if isinstance(m, dict) and "code" in m] if isinstance(message, dict) else []
        if len(codes) == 1:
            field_error = next(m for msgs in message.values() if isinstance(msgs, list) for m in msgs if isinstance(m, dict))
            return self.error(422, codes[0], field_error["message"])
        return self.error(422, "validation_error", message or "入力内容に誤りがあります。")

    def _guarded(self, call, *args):
        try:
            return call(*args)
        except DomainError as e:
            self.datamodel.session.rollback()
            return self.error(e.status, e.code, e.message)
        except IntegrityError:
            self.datamodel.session.rollback()
            return self.error(409, "integrity_error", "既に登録されているか、参照先が存在しないため保存できません。")

    def get_headless(self, pk, **kwargs):
        if not self.valid_pk(pk):
            return self.response_404()
        return super().get_headless(pk, **kwargs)

    def post_headless(self):
        return self._object_body() or self._guarded(super().post_headless)

    def put_headless(self, pk):
        if not self.valid_pk(pk):
            return self.response_404()
        return self._object_body() or self._guarded(super().put_headless, pk)

    def delete_headless(self, pk):
        if not self.valid_pk(pk):
            return self.response_404()
        return self._guarded(super().delete_headless, pk)


MAX_PK = 2 ** 31 - 1


def worker_choices(ids=None, limit: int | None = None):
    """A FilterInFunction's function for a worker dropdown: the workers of ``ids(scope)`` (default: every worker
    the scope sees), at most ``limit`` (FAB lists them all in the search form; a prime may see tens of thousands,
    so a search form lists the first PICK_LIMIT, and a worker further down is found by the list's own filters)."""
    def choices():
        from portal.app.db import db
        from portal.models import Worker
        from portal.people.scoping import current_scope

        scope = current_scope(db.session)
        stmt = select(Worker.id) if scope.is_all else select(Worker.id).where(
            Worker.id.in_(ids(scope) if ids else scope.worker_ids))
        return stmt if limit is None else stmt.order_by(Worker.name_kana, Worker.id).limit(limit)

    return choices


def model_view(model, **attrs):
    """A PortalModelView class over ``model``; ``attrs`` are FAB class attributes. A search form's worker
    dropdown lists at most PICK_LIMIT workers (not every worker the login may see, each then audited)."""
    from flask_appbuilder.models.sqla.filters import FilterInFunction

    from portal.output.work_calendar import PICK_LIMIT

    if "worker" in (attrs.get("search_columns") or []):
        rel = dict(attrs.get("search_form_query_rel_fields") or {})
        rel.setdefault("worker", [["id", FilterInFunction, worker_choices(limit=PICK_LIMIT)]])
        attrs["search_form_query_rel_fields"] = rel
    name = attrs.pop("class_name", f"{model.__name__}View")
    return type(name, (PortalModelView,), {"datamodel": PortalInterface(model), **attrs})


def api_id_validator(kind: str):
    """marshmallow validator for a 14-digit ID; its error carries a stable code (see PortalApi.response_422)."""
    from marshmallow import ValidationError as SchemaError

    def check(value):
        try:
            validate_ccus_id(value, kind)
        except DomainError as e:
            raise SchemaError([e.to_dict()]) from e

    return check


def model_api(model, resource_name: str, like=None, **attrs):
    """A PortalApi class over ``model``; ``like`` (a PortalModelView class) lends its add/edit columns, so a
    screen and its API accept the same fields."""
    name = attrs.pop("class_name", f"{model.__name__}Api")
    if like is not None:
        for attr in ("add_columns", "edit_columns"):
            if getattr(like, attr, None):
                attrs.setdefault(attr, list(getattr(like, attr)))
    id_fields = {"worker_id": "worker", "employer_id": "employer", "site_id": "site"}
    validators = {c: api_id_validator(k) for c, k in id_fields.items()
                  if c in model.__table__.c and model.__table__.c[c].type.__class__.__name__ == "String"}
    attrs.setdefault("validators_columns", validators)
    return type(name, (PortalApi,), {"datamodel": SQLAInterface(model), "resource_name": resource_name, **attrs})


def add(appbuilder, view, title: str, category: str, grants: dict, icon: str = "fa-table"):
    """Register a screen under a menu category and grant its permissions: ``grants`` maps role → permission
    regex (portal.people.security.READ / WRITE)."""
    label = lazy_gettext(title)
    # a title that already names a list (就業履歴一覧) is its own list title
    view.list_title = label if title.endswith("一覧") else lazy_gettext("%(title)s一覧", title=label)
    view.show_title = lazy_gettext("%(title)sの詳細", title=label)
    view.add_title = lazy_gettext("%(title)sの登録", title=label)
    view.edit_title = lazy_gettext("%(title)sの編集", title=label)
    # name and category stay plain: they are the menu_access permission names
    appbuilder.add_view(view, title, icon=icon, category=category, label=label, category_label=lazy_gettext(category))
    roles_cfg = current_app.config["FAB_ROLES"]
    for role, perms in grants.items():
        grant(roles_cfg, [role], view.__name__, perms + "|menu_access")
        grant(roles_cfg, [role], title, "menu_access")
        grant(roles_cfg, [role], category, "menu_access")


def add_api(appbuilder, api, grants: dict):
    api.list_title = api.show_title = api.add_title = api.edit_title = api.resource_name
    appbuilder.add_api(api)
    roles_cfg = current_app.config["FAB_ROLES"]
    for role, perms in grants.items():
        grant(roles_cfg, [role], api.__name__, perms)
