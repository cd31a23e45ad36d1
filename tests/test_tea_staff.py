"""The back office of the afternoon tea and the concerns ledger, through the Flask client: sessions
and their form, fair suggestions and invitations, answers, opting out, inviting by mobile, staff
sign-in, the printouts, recording concerns (answered or for follow-up), following one to its end,
the ledger's filters and CSV, the dashboard, and what a teacher may not see."""
import html
import re
from datetime import date, time, timedelta

import pytest
from sqlalchemy import select

from kiosk import codes, ledger, tea
from kiosk.auth import create_staff
from kiosk.database import write_transaction
from kiosk.extensions import db
from kiosk.lending import hall_today
from kiosk.models import (
    Concern,
    ConcernStep,
    Resident,
    TeaInvitation,
    TeaSession,
    TeaSignIn,
)
from tests.test_security import login
from tests.test_staff import count, read_csv, staff, text  # noqa: F401  (staff is a fixture)

# --- Building blocks ----------------------------------------------------------------------------

def next_week() -> date:
    return hall_today() + timedelta(days=7)


def error_of(page: str, field: str) -> str:
    """The message shown next to a field (its id), or "" if there is none."""
    m = re.search(rf'<p class="error" id="{field}-error"[^>]*>([^<]*)</p>', page)
    return html.unescape(m.group(1)) if m else ""


def a_session(hall, day=None, target=12, theme="Drains and bins") -> TeaSession:
    return tea.save_session(tea.SessionFields(day or next_week(), time(15), time(17), "Community hall", theme, "Ms Dolkar",
                                              "社区书记 张, 民警 李", target), hall.admin_id)


def residents(hall, n, buildings=4) -> list[int]:
    """n residents spread over `buildings` buildings ("1号楼1单元" …)."""
    return [hall.resident(f"139{i:08d}", f"Resident {i}", f"{i % buildings + 1}号楼1单元") for i in range(n)]


def ticked(page: str) -> list[int]:
    """The residents the suggestion lists, all ticked."""
    return [int(v) for v in re.findall(r'name="resident" value="(\d+)"[^>]*checked', page)]


def invited(session_id) -> set[int]:
    return set(db.session.scalars(select(TeaInvitation.resident_id).where(TeaInvitation.session_id == session_id)))


def fresh(model, id_):
    row = db.session.get(model, id_)
    db.session.refresh(row)
    return row


SESSION_FORM = {"starts_at": "15:00", "ends_at": "17:00", "place": "Community hall",
                "theme": "Drains and bins", "host": "Ms Dolkar", "officials": "社区书记 张, 民警 李", "target": "12"}
CONCERN_FORM = {"category": "roads_drains", "description": "The 50 m sewer at gate 2 keeps blocking",
                "place": "Gate 2", "urgency": "high", "source": "walk_in", "session": "", "mobile": "", "name": "",
                "answer": "", "proposed_solution": "", "responsible_body": "", "due_on": ""}


def record(client, **changes):
    return client.post("/staff/concerns/new", data={**CONCERN_FORM, **changes})


def concern_for_follow_up(hall, due_on=None, **kw) -> Concern:
    return ledger.record(ledger.Raised("sanitation_bins", "No bins at the east gate", place="East gate",
                                       proposed_solution="Ask for two bins", responsible_body="城管局",
                                       due_on=due_on, **kw), hall.admin_id)


# --- Access and menu ----------------------------------------------------------------------------

def test_menu_links_and_a_teacher_gets_403(staff, app, hall):
    session = a_session(hall)
    concern = concern_for_follow_up(hall, session_id=session.id)
    menu = text(staff.get("/staff/"))
    assert 'href="/staff/tea"' in menu and 'href="/staff/concerns"' in menu
    assert ">Afternoon tea<" in menu and ">Concerns ledger<" in menu
    create_staff("yangchen", "teacher password 1", role="teacher", display_name="Ms Yangchen")
    teacher = app.test_client()
    assert login(teacher, "yangchen", "teacher password 1").status_code == 303
    for path in ("/staff/tea", "/staff/tea/new", f"/staff/tea/{session.id}", f"/staff/tea/{session.id}/minutes",
                 f"/staff/tea/{session.id}/sign-in-sheet", f"/staff/tea/{session.id}/invitations/print",
                 "/staff/concerns", "/staff/concerns.csv", "/staff/concerns/new", f"/staff/concerns/{concern.id}"):
        assert teacher.get(path).status_code == 403, path
    assert teacher.post("/staff/concerns/new", data=CONCERN_FORM).status_code == 403
    assert count(Concern) == 1


# --- Sessions -----------------------------------------------------------------------------------

def test_plan_a_session_and_edit_it(staff, hall):
    response = staff.post("/staff/tea/new", data={**SESSION_FORM, "day": next_week().isoformat()})
    assert response.status_code == 303
    session = db.session.scalar(select(TeaSession))
    assert response.headers["Location"] == f"/staff/tea/{session.id}"
    assert (session.day, session.starts_at, session.ends_at, session.target) == (next_week(), time(15), time(17), 12)
    assert session.officials == "社区书记 张, 民警 李" and session.created_by_id == hall.admin_id
    form = text(staff.get(f"/staff/tea/{session.id}/edit"))
    assert 'value="15:00"' in form and f'value="{next_week().isoformat()}"' in form
    response = staff.post(f"/staff/tea/{session.id}/edit", data={**SESSION_FORM, "day": next_week().isoformat(), "theme": "Jobs", "target": "14"})
    assert response.status_code == 303
    session = fresh(TeaSession, session.id)
    assert (session.theme, session.target) == ("Jobs", 14)
    listing = text(staff.get("/staff/tea"))
    assert "Jobs" in listing and "0 of 14" in listing and "Community hall" in listing


@pytest.mark.parametrize("changes, field, message", [
    ({"ends_at": "14:00"}, "ends_at", "The tea must end after it starts."),
    ({"target": "0"}, "target", "Invite between 1 and 60 residents."),
    ({"target": "many"}, "target", "Please give the number of residents to invite, like 12."),
    ({"place": "  "}, "place", "Please say where the tea takes place."),
    ({"day": "next week"}, "day", "Please give a date like 2025-03-01."),
    ({"starts_at": "3pm"}, "starts_at", "Please give a time like 09:30."),
])
def test_a_bad_session_is_refused_next_to_the_field(staff, hall, changes, field, message):
    response = staff.post("/staff/tea/new", data={**SESSION_FORM, "day": next_week().isoformat(), **changes})
    assert response.status_code == 422
    assert error_of(text(response), field) == message
    assert count(TeaSession) == 0


def test_the_list_counts_invited_accepted_signed_in_and_concerns(staff, hall):
    past = a_session(hall, day=hall_today() - timedelta(days=14), theme="Stipends")
    ids = residents(hall, 3)
    tea.invite(past.id, ids)
    tea.record_answer(tea.invitations(past.id)[0].id, "accepted")
    tea.sign_in(past.id, ids[1], "staff")
    concern_for_follow_up(hall, session_id=past.id, source="tea")
    a_session(hall)
    page = text(staff.get("/staff/tea"))
    coming, gone = page.split('id="past-h"')
    assert "Drains and bins" in coming and "Stipends" in gone
    row = re.search(r"<tr>\s*<td><a[^>]*>[^<]*</a></td>\s*<td>Community hall</td><td>Stipends</td>.*?</tr>", gone, re.DOTALL)
    cells = re.findall(r'<td class="num">(.*?)</td>', row.group(0))
    assert cells[:3] == ["3 of 12", "2", "1"]  # signing in accepts the invitation
    assert f'/staff/concerns?session={past.id}">1</a>' in cells[3]


# --- Invitations --------------------------------------------------------------------------------

def test_suggest_and_invite_the_ticked(staff, hall):
    session = a_session(hall)
    residents(hall, 15)
    page = text(staff.get(f"/staff/tea/{session.id}?suggest=12"))
    suggested = ticked(page)
    assert len(suggested) == 12
    response = staff.post(f"/staff/tea/{session.id}/invite", data={"resident": suggested})
    assert response.status_code == 303 and response.headers["Location"].endswith("#invitations")
    assert invited(session.id) == set(suggested)
    assert "12 residents invited." in text(staff.get(f"/staff/tea/{session.id}"))
    # The second suggestion leaves out those already invited; by default it proposes the rest of the target.
    again = text(staff.get(f"/staff/tea/{session.id}?suggest=12"))
    assert len(ticked(again)) == 3 and not set(ticked(again)) & set(suggested)
    # Staff untick some: only the ticked are invited, and nonsense is ignored.
    first = ticked(again)[0]
    staff.post(f"/staff/tea/{session.id}/invite", data={"resident": [str(first), "abc", "99999"]})
    assert invited(session.id) == {*suggested, first}
    assert "Nobody was ticked" in text(staff.post(f"/staff/tea/{session.id}/invite", data={},
                                                  follow_redirects=True))


def test_the_suggestion_proposes_what_is_left_of_the_target(staff, hall):
    session = a_session(hall, target=4)
    ids = residents(hall, 6)
    tea.invite(session.id, ids[:2])
    tea.record_answer(tea.invitations(session.id)[0].id, "declined")
    page = text(staff.get(f"/staff/tea/{session.id}"))
    assert re.search(r'name="suggest"[^>]*value="3"', page)  # 4 less the one who did not decline


def test_answers_are_recorded_and_a_bad_one_is_refused(staff, hall):
    session = a_session(hall)
    ids = residents(hall, 3)
    tea.invite(session.id, ids)
    invitations = {i.resident_id: i.id for i in tea.invitations(session.id)}
    for rid, answer in zip(ids, ("accepted", "declined", "no_answer"), strict=True):
        response = staff.post(f"/staff/tea/invitations/{invitations[rid]}/answer", data={"answer": answer})
        assert response.status_code == 303
    assert [fresh(TeaInvitation, invitations[rid]).answer for rid in ids] == ["accepted", "declined", "no_answer"]
    page = text(staff.get(f"/staff/tea/{session.id}"))
    assert "Resident 0: Accepted." in page and "Resident 2: No answer." in page  # the flashes
    assert re.search(r'<option value="declined" selected>Will not come</option>', page)
    response = staff.post(f"/staff/tea/invitations/{invitations[ids[0]]}/answer", data={"answer": "maybe"})
    assert response.status_code == 422
    assert "Please choose accepted, declined or no answer." in text(response)
    assert fresh(TeaInvitation, invitations[ids[0]]).answer == "accepted"
    # The printed invitation list says each answer.
    printed = text(staff.get(f"/staff/tea/{session.id}/invitations/print"))
    for rid, answer in zip(ids, ("Accepted", "Will not come", "No answer"), strict=True):
        resident = db.session.get(Resident, rid)
        assert re.search(rf"{resident.name}</td><td>\d</td>\s*<td>{resident.mobile}</td><td>{answer}</td>", printed)


def test_remove_and_opt_out(staff, hall):
    session = a_session(hall)
    ids = residents(hall, 4)
    tea.invite(session.id, ids[:2])
    invitations = {i.resident_id: i.id for i in tea.invitations(session.id)}
    assert staff.post(f"/staff/tea/invitations/{invitations[ids[0]]}/remove").status_code == 303
    response = staff.post(f"/staff/tea/invitations/{invitations[ids[1]]}/opt-out", follow_redirects=True)
    assert "Resident 1 is no longer invited, and will not be suggested again." in text(response)
    assert invited(session.id) == set()
    assert fresh(Resident, ids[1]).tea_opt_out and not fresh(Resident, ids[0]).tea_opt_out
    suggested = ticked(text(staff.get(f"/staff/tea/{session.id}?suggest=12")))
    assert set(suggested) == {ids[0], ids[2], ids[3]}
    # Another session's suggestion skips them too.
    other = a_session(hall, day=next_week() + timedelta(days=14))
    assert ids[1] not in ticked(text(staff.get(f"/staff/tea/{other.id}?suggest=12")))


def test_invite_one_resident_by_mobile(staff, hall):
    session = a_session(hall)
    rid = hall.resident("13800138000", "次仁", "2号楼3单元")
    response = staff.post(f"/staff/tea/{session.id}/add", data={"add-mobile": "138 0013 8000"})
    assert response.status_code == 303
    assert invited(session.id) == {rid}
    page = text(staff.get(f"/staff/tea/{session.id}"))
    assert "次仁 is invited." in page and 'href="tel:13800138000"' in page and "<td>2</td>" in page
    assert "次仁 was already invited." in text(staff.post(f"/staff/tea/{session.id}/add",
                                                           data={"add-mobile": "13800138000"}, follow_redirects=True))
    for mobile, message in (("13700137000", "No resident is registered with this mobile number."),
                            ("12345", ("This is not a mobile number. It has 11 digits and starts with 1, "
                                       "for example 138 0013 8000."))):
        response = staff.post(f"/staff/tea/{session.id}/add", data={"add-mobile": mobile})
        assert response.status_code == 422
        assert error_of(text(response), "add-mobile") == message
    assert invited(session.id) == {rid}


def test_a_resident_who_opted_out_is_invited_by_mobile_only_if_they_asked_again(staff, hall):
    session = a_session(hall)
    rid = hall.resident("13800138000", "次仁")
    tea.set_opt_out(rid, True)
    response = staff.post(f"/staff/tea/{session.id}/add", data={"add-mobile": "13800138000"})
    assert response.status_code == 422
    assert error_of(text(response), "add-again").startswith("次仁 asked not to be invited.")
    assert invited(session.id) == set()
    response = staff.post(f"/staff/tea/{session.id}/add", data={"add-mobile": "13800138000", "add-again": "y"})
    assert response.status_code == 303
    assert invited(session.id) == {rid} and not fresh(Resident, rid).tea_opt_out


def test_staff_sign_a_resident_in_once(staff, hall):
    session = a_session(hall)
    ids = residents(hall, 2)
    tea.invite(session.id, ids)
    page = text(staff.get(f"/staff/tea/{session.id}"))
    assert page.count(f'action="/staff/tea/{session.id}/sign-in/') == 2
    for _ in range(2):
        assert staff.post(f"/staff/tea/{session.id}/sign-in/{ids[0]}").status_code == 303
    records = db.session.scalars(select(TeaSignIn)).all()
    assert [(r.resident_id, r.how) for r in records] == [(ids[0], "staff")]
    page = text(staff.get(f"/staff/tea/{session.id}"))
    assert "Resident 0 was already signed in." in page
    signed = page[page.index('id="signed-in-h"'):page.index('id="concerns-h"')]
    assert "Resident 0</td><td>Staff</td>" in signed and "Resident 1" not in signed
    assert page.count(f'action="/staff/tea/{session.id}/sign-in/') == 1
    assert staff.post(f"/staff/tea/{session.id}/sign-in/99999").status_code == 404


def test_the_printouts(staff, hall):
    session = a_session(hall)
    ids = residents(hall, 3)
    tea.invite(session.id, ids)
    tea.record_answer(tea.invitations(session.id)[2].id, "declined")
    tea.sign_in(session.id, ids[0], "qr")
    tea.sign_in(session.id, ids[1], "tablet")
    ledger.record(ledger.Raised("permits_paperwork", "How to get a residence permit?", source="tea",
                                session_id=session.id, answer="The police officer explained it"), hall.admin_id)
    concern_for_follow_up(hall, due_on=next_week() + timedelta(days=30), session_id=session.id, source="tea")
    sheet = text(staff.get(f"/staff/tea/{session.id}/sign-in-sheet"))
    assert "Resident 0" in sheet and "Resident 1" in sheet and "Resident 2" not in sheet  # declined
    assert sheet.count('class="walk-in"') == 8 and "Signature" in sheet
    listing = text(staff.get(f"/staff/tea/{session.id}/invitations/print"))
    assert all(f"Resident {n}" in listing for n in range(3))
    minutes = text(staff.get(f"/staff/tea/{session.id}/minutes"))
    for expected in ("Community hall", "Drains and bins", "Ms Dolkar", "社区书记 张, 民警 李",
                     "Resident 0, Resident 1", "Permits and paperwork", "How to get a residence permit?",
                     "The police officer explained it", "Sanitation and bins", "No bins at the east gate",
                     "Ask for two bins", "城管局"):
        assert expected in minutes, expected
    assert "Resident 2" not in minutes
    assert re.search(r"<dt>Residents present</dt>\s*<dd>2:", minutes)


# --- Recording a concern ------------------------------------------------------------------------

def test_record_a_concern_answered_on_the_spot(staff, hall):
    rid = hall.resident("13800138000", "次仁")
    response = record(staff, category="permits_paperwork", description="Residence permit?", mobile="138 0013 8000",
                      name="次仁", answer="Bring your ID to the police office", outcome="answered",
                      proposed_solution="ignored", responsible_body="派出所")
    assert response.status_code == 303
    concern = db.session.scalar(select(Concern))
    assert response.headers["Location"] == f"/staff/concerns/{concern.id}"
    assert (concern.status, concern.resident_id, concern.answer) == ("answered", rid, "Bring your ID to the police office")
    assert concern.proposed_solution == "" and concern.responsible_body == "" and concern.closed_at is not None
    page = text(staff.get(response.headers["Location"]))
    code = codes.formatted(concern.code)
    assert f"The resident&#39;s receipt code is {code}: they follow it at http://hall.test/q/{concern.code}" in page
    assert "Answered on the spot" in page and 'href="tel:13800138000"' in page


def test_record_a_concern_for_follow_up_from_the_session_page(staff, hall):
    session = a_session(hall)
    page = text(staff.get(f"/staff/tea/{session.id}"))
    quick = page[page.index('class="concern-form quick-concern"'):]
    assert f'name="session" value="{session.id}"' in quick and 'name="source" value="tea"' in quick
    assert '<option value="街道办事处">sub-district office</option>' in quick
    due = next_week() + timedelta(days=21)
    response = record(staff, session=str(session.id), source="tea", back="session", outcome="follow_up",
                      proposed_solution="Dig up and replace the pipe", responsible_body="街道办事处",
                      due_on=due.isoformat(), answer="")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/staff/tea/{session.id}#concerns"
    concern = db.session.scalar(select(Concern))
    assert (concern.status, concern.source, concern.session_id, concern.due_on, concern.responsible_body) == \
        ("open", "tea", session.id, due, "街道办事处")
    assert concern.resident_id is None
    page = text(staff.get(f"/staff/tea/{session.id}"))
    assert codes.formatted(concern.code) in page and "Dig up and replace the pipe · 街道办事处" in page
    # /staff/concerns/new?session= starts with that session chosen.
    form = text(staff.get(f"/staff/concerns/new?session={session.id}"))
    assert re.search(rf'<option selected value="{session.id}">|<option value="{session.id}" selected', form)


@pytest.mark.parametrize("changes, field, message", [
    ({"category": ""}, "category", "Please choose the kind of problem."),
    ({"description": "  "}, "description", "Please write down what the resident said."),
    ({"outcome": "answered"}, "answer", "Please write the answer given, or save the concern for follow-up."),
    ({"mobile": "13700137000"}, "mobile", "No resident is registered with this mobile number."),
    ({"name": "次仁"}, "mobile", "Please give the mobile number too: it is how we find the resident."),
    ({"mobile": "13800138000", "name": "Dawa"}, "name", "This mobile number is registered under another name."),
    ({"due_on": "2001-01-01"}, "due_on", "The due date is in the past."),
    ({"due_on": "soon"}, "due_on", "Please give a date like 2025-03-01."),
    ({"session": "99999"}, "session", "Please choose the afternoon tea from the list."),
])
def test_a_bad_concern_is_refused_next_to_the_field(staff, hall, changes, field, message):
    hall.resident("13800138000", "次仁")
    response = record(staff, **{"outcome": "follow_up", **changes})
    assert response.status_code == 422
    assert error_of(text(response), field) == message
    assert count(Concern) == 0


def test_a_refused_quick_form_keeps_its_way_back_to_the_session(staff, hall):
    session = a_session(hall)
    response = record(staff, session=str(session.id), source="tea", back="session", description="")
    assert response.status_code == 422
    assert 'name="back" value="session"' in text(response)


# --- Following a concern to its end -------------------------------------------------------------

def follow(client, concern, **data):
    return client.post(f"/staff/concerns/{concern.id}/follow-up", data=data)


def test_follow_a_concern_to_resident_informed(staff, hall):
    concern = concern_for_follow_up(hall, due_on=next_week())
    page = text(staff.get(f"/staff/concerns/{concern.id}"))
    status_select = re.search(r'<select id="status".*?</select>', page, re.DOTALL).group(0)
    assert re.findall(r'value="(\w*)"', status_select) == ["", "referred", "in_progress", "resolved", "closed_unresolved"]
    for status, note in (("referred", "Sent to 城管局"), ("in_progress", "Bins ordered"), ("resolved", "Two bins set up")):
        assert follow(staff, concern, status=status, note=note).status_code == 303
    assert follow(staff, concern, note="Called the resident, no answer").status_code == 303
    assert follow(staff, concern, status="informed", note="Told her", satisfied="yes").status_code == 303
    concern = fresh(Concern, concern.id)
    assert (concern.status, concern.satisfied) == ("informed", True) and concern.closed_at is not None
    steps = db.session.scalars(select(ConcernStep).where(ConcernStep.concern_id == concern.id)
                               .order_by(ConcernStep.at, ConcernStep.id)).all()
    assert [(s.status, s.note) for s in steps] == [
        ("open", "Ask for two bins"), ("referred", "Sent to 城管局"), ("in_progress", "Bins ordered"),
        ("resolved", "Two bins set up"), (None, "Called the resident, no answer"), ("informed", "Told her")]
    page = text(staff.get(f"/staff/concerns/{concern.id}"))
    history = page[page.index('id="history-h"'):]
    assert history.count("<td>Admin</td>") == 6
    for words in ("Referred", "In progress", "Resolved", "Resident informed", "Called the resident, no answer"):
        assert words in history, words
    assert "Yes, satisfied" in page
    assert 'id="plan"' not in page and '<select id="status"' not in page  # finished: notes only


def test_closing_unresolved_needs_a_reason_and_a_step_not_allowed_is_refused(staff, hall):
    concern = concern_for_follow_up(hall)
    response = follow(staff, concern, status="closed_unresolved", note="")
    assert response.status_code == 422
    assert error_of(text(response), "note") == "Please write why it is closed without a solution."
    response = follow(staff, concern, status="informed", note="Told them")
    assert response.status_code == 422
    assert error_of(text(response), "status") == "This concern cannot move to that step from where it is."
    assert follow(staff, concern, note="").status_code == 422
    assert fresh(Concern, concern.id).status == "open" and count(ConcernStep) == 1
    assert follow(staff, concern, status="closed_unresolved", note="No budget this year").status_code == 303
    concern = fresh(Concern, concern.id)
    assert (concern.status, concern.closed_reason) == ("closed_unresolved", "No budget this year")
    assert "No budget this year" in text(staff.get(f"/staff/concerns/{concern.id}"))


def test_change_the_plan(staff, hall):
    concern = concern_for_follow_up(hall)
    due = next_week() + timedelta(days=3)
    response = staff.post(f"/staff/concerns/{concern.id}/plan", data={
        "proposed_solution": "Ask the partner unit", "responsible_body": "共建单位", "due_on": due.isoformat()})
    assert response.status_code == 303
    concern = fresh(Concern, concern.id)
    assert (concern.proposed_solution, concern.responsible_body, concern.due_on) == ("Ask the partner unit", "共建单位", due)
    assert f"Ask the partner unit · 共建单位 · {due.isoformat()}" in text(staff.get(f"/staff/concerns/{concern.id}"))
    assert error_of(text(staff.post(f"/staff/concerns/{concern.id}/plan", data={"due_on": "x"})), "due_on")
    answered = ledger.record(ledger.Raised("other", "Question", answer="Answer"), hall.admin_id)
    response = staff.post(f"/staff/concerns/{answered.id}/plan", data={"proposed_solution": "x"})
    assert response.status_code == 409 and "This concern is closed." in text(response)


def test_a_concern_links_to_its_wish_and_back(staff, hall):
    from kiosk import wishes
    from tests.conftest import token

    rid = hall.resident("13800138000", "王芳", "3-2-401")
    wish = wishes.submit(rid, wishes.Request("help", "daily", "The drain in front of building 3 is blocked",
                                             "3-2-401", "", None), token(), channel="kiosk", limited=False)
    concern = wishes.convert_to_concern(wish.id, "roads_drains", hall.admin_id)
    page = text(staff.get(f"/staff/concerns/{concern.id}"))
    assert f'href="/staff/wishes/{wish.id}"' in page and "From a wish" in page
    assert f'href="/staff/concerns/{concern.id}"' in text(staff.get(f"/staff/wishes/{wish.id}"))


# --- The ledger ---------------------------------------------------------------------------------

@pytest.fixture
def ledger_rows(hall):
    session = a_session(hall)
    rid = hall.resident("13800138000", "次仁")
    answered = ledger.record(ledger.Raised("permits_paperwork", "Residence permit?", source="tea",
                                           session_id=session.id, resident_id=rid, answer="Explained"), hall.admin_id)
    late = concern_for_follow_up(hall, due_on=hall_today() + timedelta(days=5))
    with write_transaction() as s:  # past its due date
        s.get(Concern, late.id).due_on = hall_today() - timedelta(days=3)
    referred = ledger.record(ledger.Raised("employment", "Jobs for my children", source="phone_call",
                                           proposed_solution="Job fair", responsible_body="人社局"), hall.admin_id)
    ledger.follow_up(referred.id, "Sent to 人社局", hall.admin_id, status="referred")
    return {"session": session, "answered": answered, "late": late, "referred": referred}


def codes_on(page: str) -> set[str]:
    return set(re.findall(r'<a class="code" href="/staff/concerns/\d+">([A-Z0-9]{4}-[A-Z0-9]{4})</a>', page))


@pytest.mark.parametrize("query, expected", [
    ("", {"answered", "late", "referred"}),
    ("?status=referred", {"referred"}),
    ("?category=sanitation_bins", {"late"}),
    ("?body=人社", {"referred"}),
    ("?overdue=y", {"late"}),
    ("?session={session}", {"answered"}),
    ("?source=phone_call", {"referred"}),
    ("?status=open&overdue=y", {"late"}),
    ("?status=nonsense&session=abc&category=x", {"answered", "late", "referred"}),
])
def test_the_ledger_filters(staff, ledger_rows, query, expected):
    page = text(staff.get("/staff/concerns" + query.format(session=ledger_rows["session"].id)))
    assert codes_on(page) == {codes.formatted(ledger_rows[k].code) for k in expected}


def test_the_ledger_flags_overdue_rows_and_htmx_gets_the_table(staff, ledger_rows):
    page = text(staff.get("/staff/concerns"))
    late = codes.formatted(ledger_rows["late"].code)
    row = re.search(rf'<tr class="is-late">\s*<td><a class="code"[^>]*>{late}</a>.*?</tr>', page, re.DOTALL)
    assert row and "Past due date" in row.group(0)
    assert page.count('class="is-late"') == 1
    partial = text(staff.get("/staff/concerns?body=人社", headers={"HX-Request": "true"}))
    assert "<html" not in partial and partial.strip().startswith('<div id="concern-table">')
    assert codes_on(partial) == {codes.formatted(ledger_rows["referred"].code)}


def test_the_ledger_csv_follows_the_filters(staff, ledger_rows):
    response = staff.get("/staff/concerns.csv")
    assert response.mimetype == "text/csv" and response.headers["Cache-Control"] == "no-store"
    header, *rows = read_csv(response)
    assert header[:3] == ["Receipt code", "Recorded", "Raised at"] and len(header) == 19 and len(rows) == 3
    by_code = {r[0]: dict(zip(header, r, strict=True)) for r in rows}
    answered = by_code[codes.formatted(ledger_rows["answered"].code)]
    assert (answered["Raised at"], answered["Afternoon tea"], answered["Resident"], answered["Mobile number"],
            answered["Status"], answered["The answer given"]) == \
        ("Afternoon tea", next_week().isoformat(), "次仁", "13800138000", "Answered on the spot", "Explained")
    late = by_code[codes.formatted(ledger_rows["late"].code)]
    assert (late["Past due date"], late["Responsible body"], late["Kind of problem"]) == ("Yes", "城管局", "Sanitation and bins")
    assert late["Due date"] == (hall_today() - timedelta(days=3)).isoformat()
    _header, *overdue = read_csv(staff.get("/staff/concerns.csv?overdue=y"))
    assert [r[0] for r in overdue] == [codes.formatted(ledger_rows["late"].code)]


def test_the_dashboard_shows_the_concerns(staff, ledger_rows):
    page = text(staff.get("/staff/"))
    section = page[page.index('id="concern-alerts-h"'):]
    assert re.search(r'href="/staff/concerns\?overdue=y"><span class="num">1</span> concerns overdue', section)
    assert re.search(r'href="/staff/concerns\?status=referred">Referred</a>: <strong>1</strong>', section)
    assert re.search(r'href="/staff/concerns\?status=open">Open</a>: <strong>1</strong>', section)
    assert f'href="/staff/tea/{ledger_rows["session"].id}"' in section and "Community hall" in section
