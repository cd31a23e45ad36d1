"""One-off activities with sign-up, on residents' phones (/a/<code>) and on the hall tablet (being written)."""
from flask import Blueprint

bp = Blueprint("activities", __name__)
