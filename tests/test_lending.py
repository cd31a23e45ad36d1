"""The shop's rules, through the domain actions, on SQLite and on PostgreSQL."""
from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from kiosk import inventory, lending
from kiosk.database import write_transaction
from kiosk.extensions import db
from kiosk.models import Loan, Tool
from kiosk.refusal import Refusal
from tests.conftest import token


def refused(reason, fn, *args, **kw):
    with pytest.raises(Refusal) as info:
        fn(*args, **kw)
    assert info.value.reason == reason, info.value.reason
    return info.value


def test_borrow_lends_the_tool_until_its_due_date(any_hall):
    kind = any_hall.kind(days=3)
    tool = any_hall.tool(kind)
    who = any_hall.resident()
    loan = lending.borrow(tool.id, who, token(), channel="kiosk")
    assert loan.due_on == lending.hall_today() + timedelta(days=3)
    assert db.session.get(Tool, tool.id).status == "on_loan"
    assert lending.open_loan_for(db.session.get(Tool, tool.id)).id == loan.id


def test_a_double_tap_creates_one_loan(any_hall):
    tool = any_hall.tool()
    who = any_hall.resident()
    t = token()
    first = lending.borrow(tool.id, who, t, channel="phone")
    second = lending.borrow(tool.id, who, t, channel="phone")
    assert first.id == second.id
    assert db.session.scalar(select(db.func.count()).select_from(Loan)) == 1


def test_a_lent_tool_cannot_be_lent_again(any_hall):
    tool = any_hall.tool()
    lending.borrow(tool.id, any_hall.resident("13800138000", "甲"), token(), channel="kiosk")
    refused("just_taken", lending.borrow, tool.id, any_hall.resident("13900139000", "乙"), token(), "kiosk")
    refused("already_yours", lending.borrow, tool.id, any_hall.resident("13800138000", "甲"), token(), "kiosk")


def test_the_database_refuses_a_second_open_loan_even_past_the_checks(any_hall):
    tool = any_hall.tool()
    a, b = any_hall.resident("13800138000", "甲"), any_hall.resident("13900139000", "乙")
    lending.borrow(tool.id, a, token(), channel="kiosk")
    with pytest.raises(IntegrityError):
        with write_transaction() as s:
            s.add(Loan(tool_id=tool.id, resident_id=b, slot=1, channel="kiosk", borrow_token=token(),
                       due_on=lending.hall_today()))


def test_at_most_three_open_loans(any_hall):
    kind = any_hall.kind()
    tools = [any_hall.tool(kind) for _ in range(4)]
    who = any_hall.resident()
    for t in tools[:3]:
        lending.borrow(t.id, who, token(), channel="kiosk")
    refused("limit", lending.borrow, tools[3].id, who, token(), "kiosk")
    lending.return_tool(tools[0].id, token(), "fine", None, channel="kiosk")
    lending.borrow(tools[3].id, who, token(), channel="kiosk")  # a slot freed up


def test_the_database_keeps_slots_unique_per_resident(any_hall):
    kind = any_hall.kind()
    t1, t2 = any_hall.tool(kind), any_hall.tool(kind)
    who = any_hall.resident()
    loan = lending.borrow(t1.id, who, token(), channel="kiosk")
    with pytest.raises(IntegrityError):
        with write_transaction() as s:
            s.add(Loan(tool_id=t2.id, resident_id=who, slot=loan.slot, channel="kiosk",
                       borrow_token=token(), due_on=lending.hall_today()))


def test_an_overdue_loan_blocks_new_borrowing_kindly(any_hall):
    kind = any_hall.kind()
    t1, t2 = any_hall.tool(kind), any_hall.tool(kind)
    who = any_hall.resident()
    loan = lending.borrow(t1.id, who, token(), channel="kiosk")
    with write_transaction() as s:
        s.get(Loan, loan.id).due_on = lending.hall_today() - timedelta(days=1)
    refusal = refused("overdue", lending.borrow, t2.id, who, token(), "kiosk")
    assert "电钻" in str(refusal.message)  # names the late tool, in the default language


def test_tools_in_repair_or_retired_are_not_lent(any_hall):
    kind = any_hall.kind()
    broken, old = any_hall.tool(kind), any_hall.tool(kind)
    lending.send_to_repair(broken.id, any_hall.admin_id, "handle loose")
    lending.retire(old.id, any_hall.admin_id)
    who = any_hall.resident()
    refused("in_repair", lending.borrow, broken.id, who, token(), "kiosk")
    refused("retired", lending.borrow, old.id, who, token(), "kiosk")


def test_returning_needs_repair_sends_the_tool_to_repair(any_hall):
    tool = any_hall.tool()
    who = any_hall.resident()
    lending.borrow(tool.id, who, token(), channel="phone")
    t = token()
    loan = lending.return_tool(tool.id, t, "needs_repair", "chuck is stuck", channel="phone", resident_id=who)
    assert loan.return_condition == "needs_repair"
    assert db.session.get(Tool, tool.id).status == "in_repair"
    # A double tap on "Return it" is harmless.
    assert lending.return_tool(tool.id, t, "needs_repair", None, channel="phone", resident_id=who).id == loan.id
    lending.mark_repaired(tool.id, any_hall.admin_id)
    assert db.session.get(Tool, tool.id).status == "available"


def test_only_the_borrower_returns_by_phone(any_hall):
    tool = any_hall.tool()
    a, b = any_hall.resident("13800138000", "甲"), any_hall.resident("13900139000", "乙")
    lending.borrow(tool.id, a, token(), channel="phone")
    refused("not_yours", lending.return_tool, tool.id, token(), "fine", None, "phone", resident_id=b)
    refused("condition", lending.return_tool, tool.id, token(), "lost", None, "phone", resident_id=a)
    lending.return_tool(tool.id, token(), "fine", None, "phone", resident_id=a)
    refused("not_on_loan", lending.return_tool, tool.id, token(), "fine", None, "phone", resident_id=a)


def test_staff_cannot_retire_or_repair_a_tool_that_is_out(any_hall):
    tool = any_hall.tool()
    lending.borrow(tool.id, any_hall.resident(), token(), channel="kiosk")
    refused("on_loan", lending.retire, tool.id, any_hall.admin_id)
    refused("on_loan", lending.send_to_repair, tool.id, any_hall.admin_id)


def test_codes_are_case_insensitive_and_scanned_urls_work(any_hall):
    tool = any_hall.tool()
    assert tool.code == "RW-0001"
    for typed in ["rw-0001", "RW1", "rw 1", "ＲＷ－０００１", "http://hall.test/t/rw-0001",
                  "https://hall.example/kiosk/t/RW-0001?x=1"]:
        assert lending.find_tool(typed).id == tool.id, typed
    assert lending.find_tool("<script>") is None
    assert lending.find_tool("RW-0099") is None


def test_catalogue_counts_free_tools_per_kind(any_hall):
    kind = any_hall.kind()
    tools = [any_hall.tool(kind) for _ in range(3)]
    lending.borrow(tools[0].id, any_hall.resident(), token(), channel="kiosk")
    lending.retire(tools[2].id, any_hall.admin_id)
    (row,) = lending.catalogue()
    assert (row.free, row.total) == (1, 2)


def test_the_residents_catalogue_is_paged_and_counts_what_is_free_now(any_hall):
    drill = any_hall.kind(en="Electric drill", zh="电钻")
    tools = [any_hall.tool(drill) for _ in range(3)]
    lending.borrow(tools[0].id, any_hall.resident(), token(), channel="kiosk")
    lending.retire(tools[2].id, any_hall.admin_id)
    gone = any_hall.kind(en="Typewriter")
    lending.retire(any_hall.tool(gone).id, any_hall.admin_id)  # nothing left to lend: not shown
    any_hall.kind(en="Kite")  # no tools yet: not shown
    others = [any_hall.kind(en=f"Tool {n}", zh=f"工具{n}") for n in range(4)]
    for kind in others:
        any_hall.tool(kind)

    first = inventory.catalogue_page(None, 3)
    assert (first.number, first.pages, first.total) == (1, 2, 5)
    assert [(k.id, k.name, k.free, k.total) for k in first.items] == \
        [(drill, "电钻", 1, 2), (others[0], "工具0", 1, 1), (others[1], "工具1", 1, 1)]
    last = inventory.catalogue_page("9", 3)  # past the end: the last page
    assert last.number == 2 and [k.id for k in last.items] == others[2:]
    with force_locale("en"):
        assert inventory.catalogue_page(1, 3).items[0].name == "Electric drill"


def test_a_tools_page_reads_the_tool_its_kind_and_its_open_loan(any_hall):
    tool = any_hall.tool(any_hall.kind(days=3))
    assert inventory.tool_with_open_loan("rw-1") == (db.session.get(Tool, tool.id), None)
    loan = lending.borrow(tool.id, any_hall.resident(), token(), channel="kiosk")
    found, open_loan = inventory.tool_with_open_loan(tool.code)
    assert open_loan.id == loan.id and found.kind.loan_days == 3
    lending.return_tool(tool.id, token(), "fine", None, channel="kiosk")
    assert inventory.tool_with_open_loan(tool.code)[1] is None
    assert inventory.tool_with_open_loan("RW-0099") is None and inventory.tool_with_open_loan("<b>") is None


def test_new_tools_get_the_next_code_and_number(any_hall):
    k1, k2 = any_hall.kind(), any_hall.kind(en="Hammer")
    a, b, c = any_hall.tool(k1), any_hall.tool(k2), any_hall.tool(k1, donated_by="王师傅")
    assert [a.code, b.code, c.code] == ["RW-0001", "RW-0002", "RW-0003"]
    assert [a.number, b.number, c.number] == [1, 1, 2]
    assert db.session.scalars(select(Tool.donated_by).where(Tool.id == c.id)).one() == "王师傅"
