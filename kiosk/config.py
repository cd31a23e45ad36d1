"""Configuration: defaults here, then instance/config.py, then KIOSK_* environment variables."""
import os
import secrets
from pathlib import Path


class Defaults:
    # Filled in by load_config(): the SQLite file lives under instance/.
    SQLALCHEMY_DATABASE_URI = None
    # hide_parameters: a database error's message (which reaches the log) names the statement
    # but not its values, which can be a resident's mobile number or address.
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "hide_parameters": True}
    BASE_URL = "http://localhost:8000"
    # The hall's name as residents know it; staff change these on the settings page.
    HALL_NAME_ZH = "党群服务中心"
    HALL_NAME_BO = "མང་ཚོགས་ཞབས་ཞུ་ཁང་།"
    HALL_NAME_EN = "Community service hall"
    # Residents with no activity for this many years are anonymised (0: never); see kiosk.people.
    RETENTION_YEARS = 0
    TIMEZONE = "Asia/Shanghai"  # Lhasa keeps Beijing time
    MAX_OPEN_LOANS = 3
    DEFAULT_LOAN_DAYS = 7
    # The tablet page can stay open all day: the CSRF token lives as long as the
    # session (which the idle reset clears), not a fixed hour.
    WTF_CSRF_TIME_LIMIT = None
    WTF_CSRF_SSL_STRICT = False
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_HTTPONLY = True
    PERMANENT_SESSION_LIFETIME = 60 * 60 * 12
    BABEL_DEFAULT_LOCALE = "zh_Hans"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = ("zh_Hans", "bo", "en")
    # Seconds of no touch before the tablet asks "Still there?", then seconds of countdown.
    KIOSK_IDLE_SECONDS = 75
    KIOSK_COUNTDOWN_SECONDS = 25
    # Which camera reads QR codes on the tablet: "user" (the front one, facing the resident, for a
    # tablet in a stand at the counter) or "environment" (the back one, for a tablet held in hand).
    KIOSK_CAMERA_FACING = "user"
    # The tool shop's counts refresh themselves this often (seconds).
    KIOSK_CATALOGUE_REFRESH_SECONDS = 20
    # A receipt on the tablet goes home by itself after this many seconds.
    KIOSK_RECEIPT_SECONDS = 20
    # Login throttling: this many failures within the window lock the name (and the address).
    LOGIN_MAX_FAILURES = 5
    LOGIN_WINDOW_SECONDS = 15 * 60
    # The phone remembers its resident this long (signed cookie).
    RESIDENT_COOKIE_DAYS = 180
    KIOSK_DEVICE_COOKIE_DAYS = 365 * 5
    PAGE_SIZE = 25
    # Requests a public phone may send a day: per mobile number, and per phone (the hall tablet
    # is not limited: staff are beside it).
    WISH_LIMIT_PER_MOBILE = 3
    WISH_LIMIT_PER_DEVICE = 5
    # Photos: what a phone may upload (a larger request is refused before it is read), and the
    # longest side of the picture kept (resized, EXIF and location stripped).
    MAX_CONTENT_LENGTH = 12 * 1024 * 1024
    PHOTO_MAX_BYTES = 10 * 1024 * 1024
    PHOTO_MAX_SIDE = 1280
    # The afternoon tea's sign-in QR on the hall tablet changes every TEA_QR_SECONDS; a scanned
    # code works for TEA_TOKEN_SECONDS, and only from TEA_EARLY_MINUTES before the tea to its end.
    TEA_QR_SECONDS = 30
    TEA_TOKEN_SECONDS = 90
    TEA_EARLY_MINUTES = 30
    # Behind a reverse proxy (nginx), the number of proxies in front of the app: their
    # X-Forwarded-For/-Proto/-Host headers are then trusted (werkzeug's ProxyFix), so that
    # login throttling sees the real address and cookies are Secure under HTTPS.
    # 0 (the default) trusts no such header: set it only when a proxy really sets them.
    BEHIND_PROXY = 0
    # Served over HTTPS (KIOSK_HTTPS=1): every cookie (the session, the phone's resident, the
    # tablet's device) is then Secure. Unset, it follows BASE_URL's scheme.
    HTTPS = None
    # Rate limits on the public pages (kiosk/limits.py): counted in Redis when KIOSK_REDIS_URL is
    # set (redis://host:6379/0; one count for every gunicorn worker), in each worker's memory
    # otherwise. Keys start with RATE_LIMIT_PREFIX, so several halls can share one Redis.
    REDIS_URL = None
    RATE_LIMIT_PREFIX = "hall-kiosk"
    # "N per period; M per period" per address: wrong codes looked up, public forms sent.
    # Why these numbers: see kiosk/limits.py.
    WRONG_CODE_LIMIT = "30 per 10 minutes; 200 per day"
    PUBLIC_FORM_LIMIT = "200 per 10 minutes; 2000 per day"


ENV_KEYS = {
    "KIOSK_DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
    "KIOSK_SECRET_KEY": "SECRET_KEY",
    "KIOSK_BASE_URL": "BASE_URL",
    "KIOSK_ADMIN_PASSWORD": "ADMIN_PASSWORD",
    "KIOSK_TIMEZONE": "TIMEZONE",
    "KIOSK_BEHIND_PROXY": "BEHIND_PROXY",
    "KIOSK_HTTPS": "HTTPS",
    "KIOSK_REDIS_URL": "REDIS_URL",
    "KIOSK_RATE_LIMIT_PREFIX": "RATE_LIMIT_PREFIX",
    "KIOSK_WRONG_CODE_LIMIT": "WRONG_CODE_LIMIT",
    "KIOSK_PUBLIC_FORM_LIMIT": "PUBLIC_FORM_LIMIT",
}


def load_config(app, test_config=None):
    app.config.from_object(Defaults)
    app.config.from_pyfile("config.py", silent=True)
    for env, key in ENV_KEYS.items():
        if os.environ.get(env):
            app.config[key] = os.environ[env]
    if test_config:
        app.config.update(test_config)

    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    if not app.config["SQLALCHEMY_DATABASE_URI"]:
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'kiosk.sqlite'}"
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _kept_secret(instance / "secret_key")
    app.config["BASE_URL"] = app.config["BASE_URL"].rstrip("/")
    app.config["BABEL_DEFAULT_TIMEZONE"] = app.config["TIMEZONE"]
    app.config["BEHIND_PROXY"] = _proxy_count(app.config.get("BEHIND_PROXY"))
    https = app.config.get("HTTPS")
    app.config["HTTPS"] = app.config["BASE_URL"].startswith("https://") if https in (None, "") else _flag(https)
    # Cookies only over HTTPS when the hall is served so (a cookie set Secure over plain
    # HTTP would never come back, and nobody could log in).
    app.config["SESSION_COOKIE_SECURE"] = bool(app.config.get("SESSION_COOKIE_SECURE")) or app.config["HTTPS"]
    app.config["REMEMBER_COOKIE_SECURE"] = app.config["SESSION_COOKIE_SECURE"]


def _flag(value) -> bool:
    """KIOSK_HTTPS=1/true/yes/on -> True; 0/false/no/off -> False."""
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def _proxy_count(value) -> int:
    """KIOSK_BEHIND_PROXY=1 (or true/yes) -> 1 proxy; 2 -> 2; unset/0/false -> 0."""
    text = str(value or "0").strip().lower()
    if text in ("true", "yes", "on"):
        return 1
    if text in ("false", "no", "off", ""):
        return 0
    return max(int(text), 0)


def _kept_secret(path: Path) -> str:
    """Generate the secret key once and keep it, so sessions and device cookies survive restarts.

    Several gunicorn workers may start at once: the file is created exclusively and
    whoever loses the race reads the winner's key.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):
            key = path.read_text().strip()
            if key:
                return key
            import time

            time.sleep(0.01)
        raise RuntimeError(f"{path} is empty; delete it to generate a new key")
    key = secrets.token_hex(32)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key
