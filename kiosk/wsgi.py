"""What gunicorn serves: `gunicorn kiosk.wsgi:app`.

The app without the `flask` commands (see create_app): a web worker never migrates or backs up,
and leaving those tools out keeps each worker smaller.
"""
from . import create_app

app = create_app(commands=False)
