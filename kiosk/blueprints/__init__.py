"""One blueprint per area. The tool shop, the classes, the wishes and the tea are registered twice:
on phones at / and on the tablet at /kiosk.

Its views are written once; `kiosk.web.surface()` tells them which layout to use and
whether the device may remember the resident (a phone may, the tablet never does).
"""


def register_blueprints(app):
    from .activities.views import bp as activities_bp
    from .auth.views import bp as auth_bp
    from .classes.teach import bp as teach_bp
    from .classes.views import bp as classes_bp
    from .home.views import bp as home_bp
    from .kiosk.views import bp as kiosk_bp
    from .staff.views import bp as staff_bp
    from .tea.views import bp as tea_bp
    from .tools.views import bp as tools_bp
    from .wishes.views import bp as wishes_bp

    app.register_blueprint(home_bp)
    app.register_blueprint(kiosk_bp, url_prefix="/kiosk")
    app.register_blueprint(tools_bp)
    app.register_blueprint(tools_bp, url_prefix="/kiosk", name="kiosk_tools")
    app.register_blueprint(classes_bp)
    app.register_blueprint(classes_bp, url_prefix="/kiosk", name="kiosk_classes")
    app.register_blueprint(wishes_bp)
    app.register_blueprint(wishes_bp, url_prefix="/kiosk", name="kiosk_wishes")
    app.register_blueprint(tea_bp)
    app.register_blueprint(tea_bp, url_prefix="/kiosk", name="kiosk_tea")
    app.register_blueprint(activities_bp)
    app.register_blueprint(activities_bp, url_prefix="/kiosk", name="kiosk_activities")
    app.register_blueprint(teach_bp, url_prefix="/kiosk/teach")
    app.register_blueprint(auth_bp, url_prefix="/staff")
    app.register_blueprint(staff_bp, url_prefix="/staff")
