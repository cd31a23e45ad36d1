"""The yardstick: a Flask app with one handler that returns a short string, served by gunicorn
exactly like the kiosk (`bench.minimal_app:app`, same workers), so every page's throughput can be
printed as a ratio to it. Absolute figures drift between machines; ratios do not."""
from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return "ok"
