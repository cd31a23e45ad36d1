"""The hall tablet's home and its idle reset."""
from flask import Blueprint, redirect, session, url_for

from ...web import render

bp = Blueprint("kiosk", __name__)


@bp.get("/")
def home():
    """Four picture tiles, one per flow, and the language switch. Opens on any device."""
    return render("kiosk/home.html")


@bp.post("/reset")
def reset():
    """The idle countdown ran out (or "Start over" was tapped): forget everything, go home.

    A full page load follows, so no half-filled form survives in the DOM either.
    """
    session.clear()
    return redirect(url_for("kiosk.home"), 303)
