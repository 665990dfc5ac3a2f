"""The administrator's screen for importing the official trade and qualification code lists (CSV, UTF-8,
with or without BOM). The same parsing and upsert as ``ccus import-codes`` (portal.people.codes)."""
from __future__ import annotations

from flask import flash
from flask_appbuilder import SimpleFormView
from flask_appbuilder.forms import DynamicForm
from flask_wtf.file import FileField

from portal.people import codes
from portal.app.db import db
from portal.app.errors import DomainError


class CodeImportForm(DynamicForm):
    trades = FileField("職種コード（CSV: major_code,major_name,minor_code,minor_name,evaluable）")
    qualifications = FileField("資格コード（CSV: code,name[,category]）")


class CodeImportView(SimpleFormView):
    form = CodeImportForm
    form_title = "コード表の取込"

    def form_post(self, form):
        try:
            texts = {name: getattr(form, name).data.read().decode("utf-8-sig")
                     for name in ("trades", "qualifications") if getattr(form, name).data}
            n_t = codes.upsert_trades(db.session, codes.parse_trades(texts["trades"])) if "trades" in texts else 0
            n_q = codes.upsert_qualifications(db.session, codes.parse_qualifications(texts["qualifications"])) \
                if "qualifications" in texts else 0
        except UnicodeDecodeError:
            db.session.rollback()
            flash("CSVはUTF-8で保存してください。", "danger")
            return
        except DomainError as e:
            db.session.rollback()
            flash(e.message, "danger")
            return
        db.session.commit()
        flash(f"職種 {n_t} 件、資格 {n_q} 件を取り込みました。", "success")


def register(appbuilder) -> None:
    # administrators only: no role grants
    appbuilder.add_view(CodeImportView, "コード表の取込", icon="fa-upload", category="マスタ", category_label="マスタ")
