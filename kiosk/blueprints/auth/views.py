"""Staff log in and out."""
from flask import Blueprint, redirect, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from ...auth import authenticate, end_sessions
from ...refusal import Refusal
from ...web import render
from ..home.views import _safe_next
from .forms import LoginForm

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = authenticate(form.username.data, form.password.data, request.remote_addr or "?")
        except Refusal as refusal:
            form.password.errors.append(refusal.message)
            return render("auth/login.html", form=form, status=429 if refusal.reason == "throttled" else 422)
        lang = session.get("lang")
        session.clear()  # a fresh session on login: nothing from before carries over
        if lang:
            session["lang"] = lang
        login_user(user)
        return redirect(_safe_next(request.args.get("next"), url_for("staff.dashboard")), 303)
    return render("auth/login.html", form=form, status=422 if form.errors else 200)


@bp.post("/logout")
@login_required
def logout():
    # Logging out ends this account's sessions everywhere, also a copy of the cookie elsewhere.
    end_sessions(current_user.id)
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"), 303)
