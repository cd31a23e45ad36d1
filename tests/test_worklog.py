"""The staff work log: the rules (kiosk.worklog, on SQLite and PostgreSQL) and the back-office pages
through the Flask client: the phone form and its tiles, recording, errors next to their fields, a
double tap, a photo, the list's filters and CSV, correcting and deleting an entry, the kinds of
work, and who may open what."""
import io
import re
from datetime import date, timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select

from kiosk import photos, worklog
from kiosk.auth import create_staff
from kiosk.database import write_transaction
from kiosk.extensions import db
from kiosk.lending import hall_today
from kiosk.models import Volunteer, WorkKind, WorkLogEntry
from kiosk.refusal import Refusal
from kiosk.wishes import save_volunteer
from tests.conftest import Hall, token
from tests.test_security import login
from tests.test_staff import read_csv, staff, text  # noqa: F401  (staff is a fixture)
from tests.test_tea_staff import error_of

DAY = date(2026, 11, 23)  # "today" for the domain tests: passed in, never read from the clock


def kind_id(key: str) -> int:
    return db.session.scalar(select(WorkKind.id).where(WorkKind.key == key))


def entries() -> int:
    return db.session.scalar(select(func.count()).select_from(WorkLogEntry))


def a_volunteer(name="洛桑", mobile="13908911001", confirmed=True, active=True) -> int:
    volunteer = save_volunteer(name, mobile, "红扳手", "general", active=active)
    if not confirmed:
        with write_transaction() as s:
            s.get(Volunteer, volunteer.id).confirmed_at = None
    return volunteer.id


def visit(staff_ids, day=DAY, key="home_visit", volunteers=(), places="3号楼 2单元", households=5, note="") -> worklog.Entry:
    return worklog.Entry(kind_id(key), day, list(staff_ids), list(volunteers), places, households, note)


def refused(call) -> Refusal:
    with pytest.raises(Refusal) as caught:
        call()
    return caught.value


# --- The rules --------------------------------------------------------------------------------

def test_the_built_in_kinds_come_with_the_table(any_hall):
    assert [k.key for k in worklog.kinds()] == ["home_visit", "care_call", "safety_check", "awareness_talk",
                                                "clean_up"]


def test_record_an_entry_with_staff_and_volunteers(any_hall):
    colleague = create_staff("pema", "field work 2026", role="coordinator", display_name="Pema").id
    lobsang = a_volunteer()
    entry = worklog.record(visit([any_hall.admin_id, colleague], volunteers=[lobsang], note=" all well "),
                           token(), any_hall.admin_id, today=DAY)
    db.session.expire_all()
    row = db.session.get(WorkLogEntry, entry.id)
    assert (row.kind.key, row.day, row.places, row.households, row.note) == (
        "home_visit", DAY, "3号楼 2单元", 5, "all well")
    assert {p.id for p in row.staff} == {any_hall.admin_id, colleague}
    assert [v.id for v in row.volunteers] == [lobsang]
    assert row.recorded_by_id == any_hall.admin_id


def test_a_double_tap_records_one_entry(any_hall):
    same = token()
    first = worklog.record(visit([any_hall.admin_id]), same, any_hall.admin_id, today=DAY)
    second = worklog.record(visit([any_hall.admin_id], households=9), same, any_hall.admin_id, today=DAY)
    assert second.id == first.id
    assert entries() == 1
    assert db.session.get(WorkLogEntry, first.id).households == 5
    # Another staff member's form never returns someone else's entry.
    other = create_staff("pema", "field work 2026", display_name="Pema").id
    assert refused(lambda: worklog.record(visit([other]), same, other, today=DAY)).reason == "stale_form"


def test_a_date_in_the_future_is_refused(any_hall):
    refusal = refused(lambda: worklog.record(visit([any_hall.admin_id], day=DAY + timedelta(days=1)), token(),
                                             any_hall.admin_id, today=DAY))
    assert (refusal.reason, refusal.field) == ("day_future", "day")
    assert entries() == 0
    worklog.record(visit([any_hall.admin_id], day=DAY), token(), any_hall.admin_id, today=DAY)
    assert entries() == 1


def test_an_inactive_kind_is_refused_for_new_entries_but_old_ones_keep_it(any_hall):
    old = worklog.record(visit([any_hall.admin_id], key="clean_up"), token(), any_hall.admin_id, today=DAY)
    worklog.save_kind(kind_id("clean_up"), "环境清洁", "", "Clean-up", "🧹", active=False)
    refusal = refused(lambda: worklog.record(visit([any_hall.admin_id], key="clean_up"), token(),
                                             any_hall.admin_id, today=DAY))
    assert (refusal.reason, refusal.field) == ("kind_inactive", "kind")
    assert "clean_up" not in [k.key for k in worklog.kinds()]
    # Correcting the old entry's note keeps its kind.
    worklog.update(old.id, visit([any_hall.admin_id], key="clean_up", note="bins emptied"), today=DAY)
    assert db.session.get(WorkLogEntry, old.id).note == "bins emptied"


def test_who_may_be_named(any_hall):
    teacher = create_staff("yangchen", "blackboard chalk 7", role="teacher").id
    gone = create_staff("tashi", "field work 2026").id
    with write_transaction() as s:
        s.get(type(any_hall.admin), gone).active = False
    new_volunteer = a_volunteer("新人", "13908911002", confirmed=False)
    resting = a_volunteer("休息", "13908911003", active=False)
    cases = [(visit([]), "staff"), (visit([teacher]), "staff"), (visit([gone]), "staff"),
             (visit([any_hall.admin_id], volunteers=[new_volunteer]), "volunteers"),
             (visit([any_hall.admin_id], volunteers=[resting]), "volunteers"),
             (visit([any_hall.admin_id], households=-1), "households"),
             (visit([any_hall.admin_id], places="x" * 201), "places"),
             (worklog.Entry(None, DAY, [any_hall.admin_id]), "kind")]
    for entry, field in cases:
        assert refused(lambda: worklog.record(entry, token(), any_hall.admin_id, today=DAY)).field == field
    assert entries() == 0


def test_counts_by_kind_in_a_period(any_hall):
    me = any_hall.admin_id
    for day, key, households in [(date(2026, 7, 1), "home_visit", 3), (date(2026, 9, 30), "home_visit", 4),
                                 (date(2026, 10, 2), "safety_check", 10), (date(2026, 6, 30), "home_visit", 8),
                                 (date(2027, 1, 1), "clean_up", 0)]:
        worklog.record(visit([me], day=day, key=key, households=households), token(), me,
                       today=date(2027, 1, 1))
    counts = {c.kind.key: (c.entries, c.households)
              for c in worklog.counts_by_kind(date(2026, 7, 1), date(2026, 12, 31))}
    assert counts == {"home_visit": (2, 7), "care_call": (0, 0), "safety_check": (1, 10),
                      "awareness_talk": (0, 0), "clean_up": (0, 0)}
    everything = {c.kind.key: c.entries for c in worklog.counts_by_kind(None, None)}
    assert everything["home_visit"] == 3 and everything["clean_up"] == 1


def test_kinds_staff_add_rename_and_take_out_of_use(any_hall):
    added = worklog.add_kind(" 助老送餐 ", "", "Meals for the elderly", "🍲")
    assert added.key is None and added.name_zh == "助老送餐" and added in worklog.kinds()
    assert refused(lambda: worklog.add_kind("", "", "No Chinese", "🍲")).field == "name_zh"
    assert refused(lambda: worklog.add_kind("送餐", "", "", "meal")).field == "pictogram"
    assert refused(lambda: worklog.add_kind("助老送餐", "", "", "🍲")).reason == "name_taken"
    worklog.save_kind(added.id, "助餐", "", "Meals", "🍱", active=False)
    kind = db.session.get(WorkKind, added.id)
    assert (kind.name_zh, kind.name_en, kind.pictogram, kind.active) == ("助餐", "Meals", "🍱", False)
    assert kind not in worklog.kinds() and kind in worklog.kinds(active_only=False)


def test_entries_query_filters(any_hall):
    me = any_hall.admin_id
    pema = create_staff("pema", "field work 2026", display_name="Pema").id
    worklog.record(visit([me], day=date(2026, 11, 1), places="3号楼", note="leaking roof"), token(), me, today=DAY)
    worklog.record(visit([pema], day=date(2026, 11, 10), key="care_call", places="5号楼"), token(), pema, today=DAY)
    worklog.record(visit([me, pema], day=date(2026, 11, 20), key="clean_up", places="东门"), token(), me, today=DAY)

    def places(**filters):
        return [e.places for e in db.session.scalars(worklog.entries_query(**filters))]

    assert places() == ["东门", "5号楼", "3号楼"]  # newest first
    assert places(kind_id=kind_id("care_call")) == ["5号楼"]
    assert places(staff_id=pema) == ["东门", "5号楼"]
    assert places(start=date(2026, 11, 5), end=date(2026, 11, 15)) == ["5号楼"]
    assert places(text="ROOF") == ["3号楼"] and places(text="东") == ["东门"]
    assert places(text="100%") == []


def test_update_and_delete_take_the_photo_along(any_hall):
    me = any_hall.admin_id
    first = _stored_photo()
    entry = worklog.record(worklog.Entry(kind_id("home_visit"), DAY, [me], photo=first), token(), me, today=DAY)
    second = _stored_photo()
    worklog.update(entry.id, worklog.Entry(kind_id("care_call"), DAY, [me], photo=second), today=DAY)
    assert photos.path_of(first) is None and photos.path_of(second) is not None
    assert db.session.get(WorkLogEntry, entry.id).kind.key == "care_call"
    worklog.delete(entry.id)
    assert photos.path_of(second) is None and entries() == 0
    assert refused(lambda: worklog.delete(entry.id)).reason == "no_entry"


def _stored_photo() -> str:
    from werkzeug.datastructures import FileStorage

    return photos.save_photo(FileStorage(io.BytesIO(png()), filename="work.png"))


def png(size=(40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 120, 60)).save(buffer, "PNG")
    return buffer.getvalue()


# --- The pages --------------------------------------------------------------------------------

def fresh_form(client) -> dict:
    """What the new-entry form hands out: its token and the date it fills in."""
    page = text(client.get("/staff/worklog/new"))
    return {"token": re.search(r'name="token"[^>]*value="([^"]+)"', page).group(1),
            "day": re.search(r'name="day"[^>]*value="([^"]+)"', page).group(1)}


def post_entry(client, **changes):
    data = {**fresh_form(client), "kind": str(kind_id("home_visit")), "places": "3号楼 2单元",
            "households": "4", "note": "Grandma Dolma is well", "staff": ["1"]}
    data.update(changes)
    return client.post("/staff/worklog/new", data={k: v for k, v in data.items() if v is not None},
                       content_type="multipart/form-data")


def test_the_phone_form_has_big_kind_tiles_and_is_filled_in(staff):
    page = text(staff.get("/staff/worklog/new"))
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    tiles = re.findall(r'<label class="pict-tile"><input[^>]*name="kind"[^>]*type="radio"[^>]*>\s*'
                       r'<span class="pict"[^>]*>([^<]+)</span>\s*<span class="pict-word">([^<]+)</span>', page)
    assert [(p.strip(), w) for p, w in tiles] == [("🏠", "Home visit"), ("📞", "Care call"), ("🧯", "Safety check"),
                                                  ("📢", "Awareness talk"), ("🧹", "Clean-up")]
    assert re.search(rf'name="day"[^>]*value="{hall_today().isoformat()}"', page)
    assert re.search(rf'max="{hall_today().isoformat()}"', page)
    assert re.search(r'<input checked[^>]*name="staff"[^>]*value="1"|<input[^>]*checked[^>]*name="staff"[^>]*value="1"',
                     page), "the one recording is ticked"
    assert re.search(r'name="households"[^>]*|inputmode="numeric"', page)
    households = re.search(r'<input[^>]*name="households"[^>]*>', page).group(0)
    assert 'inputmode="numeric"' in households
    photo = re.search(r'<input[^>]*name="photo"[^>]*>', page).group(0)
    assert 'accept="image/*"' in photo and 'capture="environment"' in photo and 'type="file"' in photo
    form = re.search(r'<form method="post" enctype="multipart/form-data" class="worklog-form".*?</form>', page, re.S)
    assert form and form.group(0).count('type="submit"') == 1
    assert 'style="' not in page and "<script>" not in page


def test_record_work_and_see_the_confirmation_with_add_another(staff):
    response = post_entry(staff)
    assert response.status_code == 303
    entry = db.session.scalar(select(WorkLogEntry))
    assert response.headers["Location"].endswith(f"/staff/worklog/{entry.id}/saved")
    assert (entry.places, entry.households, entry.note, [p.id for p in entry.staff]) == (
        "3号楼 2单元", 4, "Grandma Dolma is well", [1])
    assert entry.day == hall_today()
    page = text(staff.get(response.headers["Location"]))
    assert "Work recorded" in page and "Home visit" in page and "4 households" in page
    assert 'href="/staff/worklog/new"' in page and "Add another" in page


def test_a_double_tap_on_save_records_one_entry(staff):
    form = fresh_form(staff)
    data = {**form, "kind": str(kind_id("care_call")), "staff": ["1"], "households": ""}
    first = staff.post("/staff/worklog/new", data=data)
    second = staff.post("/staff/worklog/new", data=data)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert entries() == 1 and db.session.scalar(select(WorkLogEntry)).households == 0


@pytest.mark.parametrize("changes, field, message", [
    ({"kind": None}, "kind", "Please choose what kind of work it was."),
    ({"households": "abc"}, "households", "Please give the number of households as a number, like 3."),
    ({"day": "2099-01-01"}, "day", "The work cannot be done on a date still to come."),
    ({"day": "yesterday"}, "day", "Please give a date like 2025-03-01."),
    ({"staff": None}, "staff", "Please tick at least one staff member who did the work."),
    ({"places": "x" * 201}, "places", "Please write it shorter."),
])
def test_errors_are_shown_next_to_their_field(staff, changes, field, message):
    response = post_entry(staff, **changes)
    assert response.status_code == 422
    page = text(response)
    assert error_of(page, field) == message
    assert entries() == 0
    # What was typed stays, and the token too (fixing it and saving records once).
    assert 'value="3号楼 2单元"' in page or field == "places"


def test_a_photo_is_kept_without_its_metadata_and_shown_to_staff(staff):
    response = post_entry(staff, photo=(io.BytesIO(png()), "roof.png"))
    assert response.status_code == 303
    entry = db.session.scalar(select(WorkLogEntry))
    assert entry.photo and photos.path_of(entry.photo) is not None
    page = text(staff.get(f"/staff/worklog/{entry.id}"))
    assert f'src="/staff/photos/{entry.photo}"' in page
    served = staff.get(f"/staff/photos/{entry.photo}")
    assert served.status_code == 200 and Image.open(io.BytesIO(served.get_data())).size == (40, 30)


def test_a_file_that_is_not_a_photo_is_refused_next_to_the_photo_field(staff):
    response = post_entry(staff, photo=(io.BytesIO(b"not a picture"), "notes.txt"))
    assert response.status_code == 422
    assert error_of(text(response), "photo") == "This file is not a photo. Please choose a picture."
    assert entries() == 0


def test_the_list_filters_and_exports(staff, hall):
    pema = create_staff("pema", "field work 2026", role="coordinator", display_name="Pema").id
    me = hall.admin_id
    today = hall_today()
    lobsang = a_volunteer()
    worklog.record(worklog.Entry(kind_id("home_visit"), today - timedelta(days=20), [me], [lobsang], "3号楼", 6,
                                 "=leaking roof"), token(), me)
    worklog.record(worklog.Entry(kind_id("care_call"), today - timedelta(days=5), [pema], [], "5号楼", 1, ""),
                   token(), pema)
    worklog.record(worklog.Entry(kind_id("clean_up"), today, [me, pema], [], "东门", 0, "bins"), token(), me)

    def listed(query=""):
        page = text(staff.get(f"/staff/worklog{query}"))
        return re.findall(r'data-label="Households or places covered">([^<]*)</td>', page)

    assert listed() == ["东门", "5号楼", "3号楼"]
    assert listed(f"?kind={kind_id('care_call')}") == ["5号楼"]
    assert listed(f"?staff={pema}") == ["东门", "5号楼"]
    since = (today - timedelta(days=10)).isoformat()
    assert listed(f"?start={since}&end={today.isoformat()}") == ["东门", "5号楼"]
    assert listed("?q=roof") == ["3号楼"]
    fragment = text(staff.get("/staff/worklog?q=roof", headers={"HX-Request": "true"}))  # typing in the search
    assert fragment.lstrip().startswith('<div id="worklog-table">') and "3号楼" in fragment and "东门" not in fragment
    assert listed("?start=soon") == ["东门", "5号楼", "3号楼"]  # a date typed wrong filters nothing
    page = text(staff.get(f"/staff/worklog?start={since}"))
    assert re.search(r"Care call: <strong>1</strong>", page) and re.search(r"Home visit: <strong>0</strong>", page)

    rows = read_csv(staff.get(f"/staff/worklog.csv?staff={me}"))
    assert rows[0][:4] == ["Date", "Kind of work", "Households or places covered", "Households"]
    assert [r[2] for r in rows[1:]] == ["东门", "3号楼"]
    roof = rows[2]
    assert roof[1] == "Home visit" and roof[3] == "6" and roof[4] == "Admin" and roof[5] == "洛桑"
    assert roof[6] == "'=leaking roof"  # Excel would run it as a formula
    assert "13908911001" not in staff.get("/staff/worklog.csv").get_data(as_text=True)


def test_correct_an_entry_and_delete_it_after_confirming(staff, hall):
    entry = worklog.record(worklog.Entry(kind_id("home_visit"), hall_today(), [hall.admin_id], [], "3号楼", 2, ""),
                           token(), hall.admin_id)
    page = text(staff.get(f"/staff/worklog/{entry.id}"))
    assert re.search(r'<input checked[^>]*value="%d"|<input[^>]*checked[^>]*name="kind"[^>]*value="%d"'
                     % (entry.kind_id, entry.kind_id), page)
    assert "Recorded by Admin" in page and f'href="/staff/worklog/{entry.id}/delete"' in page
    response = staff.post(f"/staff/worklog/{entry.id}", data={
        "kind": str(kind_id("safety_check")), "day": hall_today().isoformat(), "places": "3号楼 gas pipes",
        "households": "12", "note": "", "staff": ["1"]})
    assert response.status_code == 303
    db.session.expire_all()
    row = db.session.get(WorkLogEntry, entry.id)
    assert (row.kind.key, row.places, row.households) == ("safety_check", "3号楼 gas pipes", 12)
    bad = staff.post(f"/staff/worklog/{entry.id}", data={"kind": str(row.kind_id), "day": hall_today().isoformat(),
                                                         "households": "-3", "staff": ["1"]})
    assert bad.status_code == 422 and error_of(text(bad), "households")

    confirm = text(staff.get(f"/staff/worklog/{entry.id}/delete"))
    assert "Delete this entry?" in confirm and "3号楼 gas pipes" in confirm
    assert entries() == 1  # looking at the question deletes nothing
    response = staff.post(f"/staff/worklog/{entry.id}/delete")
    assert response.status_code == 303 and entries() == 0
    assert staff.get(f"/staff/worklog/{entry.id}").status_code == 404


def test_kinds_of_work_are_added_renamed_and_taken_out_of_use(staff):
    response = staff.post("/staff/worklog/kinds", data={"name_zh": "助老送餐", "name_bo": "", "name_en": "Meals",
                                                        "pictogram": "🍲"})
    assert response.status_code == 303
    kind = db.session.scalar(select(WorkKind).where(WorkKind.name_zh == "助老送餐"))
    assert '<span class="pict-word">Meals</span>' in text(staff.get("/staff/worklog/new"))
    bad = staff.post("/staff/worklog/kinds", data={"name_zh": "", "name_en": "Nameless", "pictogram": "🍲"})
    assert bad.status_code == 422 and error_of(text(bad), "name_zh") == "Please write the Chinese name."
    # Renamed, then out of use (the box unticked): no longer offered on the form.
    response = staff.post(f"/staff/worklog/kinds/{kind.id}", data={"name_zh": "助餐", "name_en": "Meal delivery",
                                                                   "pictogram": "🍱"})
    assert response.status_code == 303
    db.session.expire_all()
    kind = db.session.get(WorkKind, kind.id)
    assert (kind.name_en, kind.active) == ("Meal delivery", False)
    assert '<span class="pict-word">Meal delivery</span>' not in text(staff.get("/staff/worklog/new"))
    assert "Meal delivery" in text(staff.get("/staff/worklog/kinds"))


def test_the_menu_shows_the_work_log(staff):
    assert 'href="/staff/worklog">Work log</a>' in text(staff.get("/staff/worklog"))


def test_teachers_may_not_and_coordinators_may_record_but_not_change_kinds(app):
    # No app context around the requests: Flask-Login keeps the signed-in user in it.
    with app.app_context():
        Hall()
        create_staff("yangchen", "blackboard chalk 7", role="teacher")
        dawa = create_staff("dawa", "helping hands 42", role="coordinator", display_name="Dawa").id
        home_visit = kind_id("home_visit")
    teacher, coordinator = app.test_client(), app.test_client()
    assert login(teacher, "yangchen", "blackboard chalk 7").status_code == 303
    for path in ("/staff/worklog", "/staff/worklog/new", "/staff/worklog.csv", "/staff/worklog/kinds"):
        assert teacher.get(path).status_code == 403, path
    assert teacher.post("/staff/worklog/new", data={}).status_code == 403
    assert login(coordinator, "dawa", "helping hands 42").status_code == 303
    assert coordinator.get("/staff/worklog/kinds").status_code == 403
    assert 'href="/staff/worklog/kinds"' not in text(coordinator.get("/staff/worklog"))
    response = coordinator.post("/staff/worklog/new", data={
        **fresh_form(coordinator), "kind": str(home_visit), "staff": [str(dawa)], "places": "5号楼"})
    assert response.status_code == 303
    with app.app_context():
        assert db.session.scalar(select(WorkLogEntry)).recorded_by_id == dawa
