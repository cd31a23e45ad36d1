"""No public page gives away who asked for what.

A hall with residents whose names, mobile numbers and buildings are distinctive, and requests
in every status (one fulfilled with photos, one claimed by a volunteer); then every public GET
route of the app (walked from app.url_map, so a page added later is covered too), on phones and
on the tablet, with every receipt code and wish id, and the wall with every category. No page
may carry a resident's name, mobile number (nor its last 8 digits), building or photo, nor the
volunteer's name or number. The volunteer's own page (/v/<key>) is the one place meant to show
them, and is left out.
"""
import io
import re

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.routing import IntegerConverter

from kiosk import photos, wishes
from kiosk.blueprints.wishes.forms import CATEGORY_WORDS, KIND_WORDS
from kiosk.extensions import db
from kiosk.lending import hall_today
from kiosk.models import Fulfilment, Wish
from tests.conftest import token
from tests.test_wishes_http import jpeg_with_gps, own_uploads, tablet_client  # noqa: F401 - a fixture

PEOPLE = [(f"隐名居民{n}号", f"135{n:04d}{n:04d}", f"秘楼{n}栋-99{n}室") for n in range(1, 10)]
HELPER = ("志愿者隐名", "13311110000")
WISH_ENDPOINTS = ("wishes", "kiosk_wishes")


def kept_photo() -> str:
    return photos.save_photo(FileStorage(io.BytesIO(jpeg_with_gps((64, 48))), filename="after.jpg"))


@pytest.fixture
def wall_of_requests(app, hall):
    """{status: Wish}, one request in every status, each from its own resident."""
    residents = [hall.resident(mobile, name, unit) for name, mobile, unit in PEOPLE]

    def send(n, kind="wish", category="school", photo=None):
        name, mobile, unit = PEOPLE[n]
        wanted = wishes.Request(kind, category, f"Request number {n}, in the resident's words.", unit,
                                "Sunday after 3 pm", photo)
        return wishes.submit(residents[n], wanted, token(), "phone", device=f"device-{n}")

    def publish(wish):
        return wishes.publish(wish.id, f"Alias {wish.id}", f"Area {wish.id}", hall.admin_id)

    made = {"received": send(0)}
    made["published"] = publish(send(1, category="health"))
    claimed = publish(send(2, category="daily"))
    wishes.claim(claimed.id, token(), volunteer_mobile=HELPER[1], volunteer_name=HELPER[0])
    made["claimed"] = claimed
    repairer = wishes.save_volunteer("修理隐名", "13322220000", "Red Wrench", "repair_skills")
    repair = send(3, kind="repair", category="repair")
    made["in_progress"] = wishes.assign(repair.id, repairer.id, hall.admin_id)
    fulfilled = publish(send(4, kind="help", category="company", photo=kept_photo()))
    unit = wishes.save_partner_unit("Tibetan Medicine Clinic", "", "", "")
    wishes.claim(fulfilled.id, token(), partner_unit_id=unit.id)
    wishes.fulfil(fulfilled.id, wishes.Done(hall_today(), "Visited twice a week.", 120, photo=kept_photo()),
                  hall.admin_id)
    wishes.thank(fulfilled.id, 5, "Thank you!")
    made["fulfilled"] = fulfilled
    declined = send(5, category="other")
    made["declined"] = wishes.decline(declined.id, "We cannot buy this.", hall.admin_id)
    made["merged"] = wishes.merge(send(6, category="health").id, made["published"].code, hall.admin_id)
    made["converted"] = send(7, category="paperwork")
    wishes.convert_to_concern(made["converted"].id, "permits_paperwork", hall.admin_id)
    fulfilled_unrated = publish(send(8, category="school"))
    wishes.fulfil(fulfilled_unrated.id, wishes.Done(hall_today(), "A schoolbag.", 30), hall.admin_id)
    made["fulfilled_unrated"] = fulfilled_unrated
    db.session.expire_all()
    made = {key: db.session.get(Wish, wish.id) for key, wish in made.items()}
    assert {w.status for w in made.values()} == {"received", "published", "claimed", "in_progress", "fulfilled",
                                                 "declined", "merged", "converted"}
    return made


def secrets_of(made) -> list[str]:
    found = [HELPER[0], HELPER[1], HELPER[1][-8:], "修理隐名", "13322220000", "Sunday after 3 pm"]
    for name, mobile, unit in PEOPLE:
        found += [name, mobile, mobile[-8:], unit]
    found += [wish.photo for wish in made.values() if wish.photo]
    found += [p for p in db.session.scalars(select(Fulfilment.photo)) if p]
    assert sum(1 for s in found if s.endswith(".jpg")) == 2
    return found


def public_urls(app, made) -> list[str]:
    """Every public GET address, its parameters filled with real codes and ids."""
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static" or rule.rule.startswith("/staff") \
                or rule.endpoint.endswith("wishes.volunteer"):
            continue
        ours = rule.endpoint.split(".")[0] in WISH_ENDPOINTS
        choices = [{}]
        for name, converter in rule._converters.items():
            if ours and isinstance(converter, IntegerConverter):
                values = [w.id for w in made.values()]
            elif ours and "code" in name:
                values = [w.code for w in made.values()] + [w.code.lower() for w in made.values()]
            else:
                values = [1 if isinstance(converter, IntegerConverter) else "RW-0001"]
            choices = [dict(c, **{name: v}) for c in choices for v in values]
        for values in choices:
            urls.append(rule.build(values, append_unknown=False)[1])
    for prefix in ("", "/kiosk"):
        urls += [f"{prefix}/w/wall?category={c}" for c in CATEGORY_WORDS]
        urls += [f"{prefix}/w/new?kind={k}" for k in KIND_WORDS]
        urls += [f"{prefix}/w/find?code={w.code}" for w in made.values()]
    return urls


def leaks(response, secrets) -> list[str]:
    text = response.get_data(as_text=True) + " " + response.headers.get("Location", "")
    found = [s for s in secrets if s in text]
    if re.search(r"<img\b[^>]*\bsrc=\"[^\"]*upload", text, re.I) or "uploads" in text:
        found.append("a photo from uploads")
    return found


def test_no_public_page_shows_who_asked_for_what(app, hall, wall_of_requests):
    secrets = secrets_of(wall_of_requests)
    phone, tablet = app.test_client(), tablet_client(app, hall.admin_id)
    urls = public_urls(app, wall_of_requests)
    assert len(urls) > 100
    problems, seen = [], 0
    for client in (phone, tablet):
        for lang in ("en", "zh_Hans", "bo"):
            with client.session_transaction() as session:
                session["lang"] = lang
            for url in urls:
                response = client.get(url)
                assert response.status_code < 500, url
                seen += response.status_code == 200
                problems += [f"{url} ({lang}): {leak}" for leak in leaks(response, secrets)]
    assert not problems, "\n".join(problems)
    # The walk really reached the pages about these requests.
    assert seen > len(urls)


def test_every_status_page_was_really_shown(app, hall, wall_of_requests):
    client = app.test_client()
    with client.session_transaction() as session:
        session["lang"] = "en"
    for key, wish in wall_of_requests.items():
        page = client.get(f"/w/{wish.code}").get_data(as_text=True)
        shown = "published" if key == "merged" else key.replace("_unrated", "")
        assert f'data-status="{shown}"' in page, key
    wall = client.get("/w/wall").get_data(as_text=True)
    assert wall.count('class="wish-card"') == 2  # the published one and the claimed one


def test_the_receipts_just_after_sending_show_nothing_personal(app, hall):
    name, mobile, unit = "隐名新人", "13588887777", "秘楼88栋"
    data = {"kind": "repair", "category": "repair", "description": "The door lock is broken.",
            "building_unit": unit, "visit_times": "Sunday after 3 pm", "mobile": mobile, "name": name,
            "consent": "y"}
    on_tablet = tablet_client(app, hall.admin_id).post("/kiosk/w/new", data=dict(data, token=token()))
    on_phone = app.test_client().post("/w/new", content_type="multipart/form-data",
                                      data=dict(data, token=token(), photo=(io.BytesIO(jpeg_with_gps((64, 48))), "door.jpg")))
    assert on_tablet.status_code == 200 and on_phone.status_code == 303
    stored = wishes.find_wish(on_phone.headers["Location"].rsplit("/", 1)[1])
    secrets = [name, mobile, mobile[-8:], unit, "Sunday after 3 pm", stored.photo]
    assert not leaks(on_tablet, secrets) and not leaks(on_phone, secrets)
    assert not leaks(app.test_client().get(on_phone.headers["Location"]), secrets)
