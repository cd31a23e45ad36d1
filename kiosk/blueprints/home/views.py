"""Residents' phones: the home page after scanning a poster, the language switch, "not you?"."""
from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, request, session, url_for

from ... import visitor
from ...web import render

bp = Blueprint("home", __name__)


@bp.get("/")
def home():
    return render("phone/home.html", resident=visitor.current_resident())


def _safe_next(target: str | None, fallback: str) -> str:
    """Only go back to a page of this site (no open redirect)."""
    if not target:
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/"):
        return fallback
    return target


@bp.post("/lang")
def set_language():
    """Switch the language and come back to the same page."""
    lang = request.form.get("lang")
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
    return redirect(_safe_next(request.form.get("next"), url_for("home.home")), 303)


@bp.post("/me/forget")
def forget_me():
    """A phone stops remembering its resident (someone else's phone, or a shared one)."""
    response = redirect(url_for("home.home"), 303)
    visitor.forget(response)
    return response
