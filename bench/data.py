"""Ten years of a busy hall, generated: deterministic (seeded), written with Core bulk inserts.

    python -m bench.data sqlite:///instance/bench/x.sqlite --scale 0.1 --seed 9

scale 1.0 is the large dataset of issue 9 (600 tools of 60 kinds, 6,000 residents, 80,000 loans,
40 course terms with 2,000 registrations and 30,000 attendance marks, 3,000 wishes and requests,
240 teas, 4,000 concerns with follow-ups, 200 audit entries a week for ten years); 0.1 is the
small one. Dates are counted back from the day of generation, so "overdue" and "this term" mean
what they would in a real hall on that day.

The schema is made with db.create_all() (what the migrations end at), then the admin account
(kiosk.auth.create_staff, password ADMIN_PASSWORD). Rows skip the domain actions on purpose:
80,000 borrows through kiosk.lending would take minutes; the database's own constraints (one open
loan per tool, numbered slots, seats) still check every row.
"""
import argparse
import random
import time
from datetime import datetime, timedelta
from datetime import time as clock

from sqlalchemy import text

ADMIN_PASSWORD = "bench-counter-Lhasa-2026"
YEARS = 10
CHUNK = 5000

SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗"
GIVEN = ["小明", "丽", "强", "芳", "伟", "娜", "军", "敏", "静", "磊", "洋", "艳", "勇", "杰", "娟"]
TIBETAN = ["Tashi", "Dolma", "Pema", "Tenzin", "Norbu", "Lhamo", "Dawa", "Yangchen", "Sonam", "Drolkar"]
KIND_WORDS = [("电钻", "གཏར་འབིགས།", "Drill", "🔧"), ("梯子", "སྐས་ཀ", "Ladder", "🪜"),
              ("扳手", "སྐྱེད་ལྕགས།", "Wrench", "🔩"), ("锤子", "ཐོ་བ།", "Hammer", "🔨"),
              ("锯子", "སོག་ལེ།", "Saw", "🪚"), ("手推车", "ལག་འཐེན་འཁོར་ལོ།", "Trolley", "🛒")]


def _chunks(rows):
    for i in range(0, len(rows), CHUNK):
        yield rows[i:i + CHUNK]


def _n(count: int, scale: float) -> int:
    return max(1, round(count * scale))


def build(url: str, scale: float = 1.0, seed: int = 9, quiet: bool = False) -> dict:
    """Drop and recreate every table at `url`, fill them; {table: rows} and the seconds taken."""
    from kiosk import create_app
    from kiosk.auth import create_staff
    from kiosk.extensions import db

    started = time.perf_counter()
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": False})
    rnd = random.Random(seed)
    now = datetime.now().replace(microsecond=0)
    today = now.date()
    first_day = today - timedelta(days=365 * YEARS)
    span_days = (today - first_day).days

    def moment(day_offset: float) -> datetime:
        return datetime.combine(first_day, clock(9)) + timedelta(days=day_offset, minutes=rnd.randrange(480))

    counts = {}
    with app.app_context():
        db.drop_all()
        db.create_all()
        admin = create_staff("admin", ADMIN_PASSWORD, role="admin", display_name="Admin")
        admin_id = admin.id
        tables = db.metadata.tables

        def put(name, rows):
            counts[name] = counts.get(name, 0) + len(rows)
            with db.engine.begin() as conn:
                for chunk in _chunks(rows):
                    conn.execute(tables[name].insert(), chunk)

        # Staff: a few counter staff and teachers besides the admin.
        staff_rows = [{"id": admin_id + 1 + i, "username": f"staff{i}", "display_name": f"员工{i}",
                           "password_hash": admin.password_hash, "role": "teacher" if i < 2 else "staff",
                           "active": True, "session_version": 0} for i in range(6)]
        put("staff_user", staff_rows)
        staff_ids = [admin_id] + [r["id"] for r in staff_rows]
        teacher_ids = staff_ids[1:3]

        # Residents.
        n_res = _n(6000, scale)

        def person_name(i):
            if i % 3 == 2:
                return f"{TIBETAN[i % len(TIBETAN)]} {TIBETAN[(i // 7) % len(TIBETAN)]}"
            return SURNAMES[i % len(SURNAMES)] + GIVEN[(i // 20) % len(GIVEN)]

        residents = []
        for i in range(n_res):
            joined = moment(rnd.uniform(0, span_days - 30))
            residents.append({"id": i + 1, "name": person_name(i), "mobile": f"139{i:08d}",
                                  "building_unit": f"{1 + i % 40}栋{1 + i % 6}单元", "consent_at": joined,
                                  "tea_opt_out": (i % 17 == 0), "created_at": joined, "erased_at": None})
        put("resident", residents)
        res_ids = [r["id"] for r in residents]

        # Tool kinds and tools.
        n_kinds = _n(60, scale)
        kinds = []
        for k in range(n_kinds):
            zh, bo, en, pic = KIND_WORDS[k % len(KIND_WORDS)]
            kinds.append({"id": k + 1, "name_zh": f"{zh}{k + 1}号", "name_bo": f"{bo} {k + 1}", "name_en": f"{en} {k + 1}",
                              "pictogram": pic, "loan_days": rnd.choice([3, 7, 7, 14]), "created_at": moment(0)})
        put("tool_kind", kinds)
        loan_days = {k["id"]: k["loan_days"] for k in kinds}
        n_tools = _n(600, scale)
        tools, per_kind = [], {}
        for t in range(n_tools):
            kind_id = 1 + t % n_kinds
            per_kind[kind_id] = per_kind.get(kind_id, 0) + 1
            tools.append({"id": t + 1, "code": f"RW-{t + 1:04d}", "kind_id": kind_id, "number": per_kind[kind_id],
                              "status": "available", "condition": rnd.choice(["good", "good", "fair", "worn"]),
                              "donated_by": "a resident" if t % 5 == 0 else None,
                              "acquired_on": first_day + timedelta(days=rnd.randrange(span_days // 2)),
                              "note": None, "created_at": moment(0)})

        # Loans: per tool, one after another (never two open); the last one open for ~8% of tools,
        # of which about a third are overdue. Open loans go to distinct residents (slot 1).
        n_loans = _n(80000, scale)
        per_tool = n_loans // n_tools
        extra = n_loans - per_tool * n_tools
        loans, open_borrowers = [], iter(rnd.sample(res_ids, min(len(res_ids), n_tools)))
        loan_id = 0
        for tool in tools:
            count = per_tool + (1 if tool["id"] <= extra else 0)
            gap = span_days / (count + 1)
            is_open = rnd.random() < 0.08
            for j in range(count):
                loan_id += 1
                borrowed = moment(gap * j + rnd.uniform(0, gap * 0.3))
                days = loan_days[tool["kind_id"]]
                last = j == count - 1
                row = {"id": loan_id, "tool_id": tool["id"], "resident_id": rnd.choice(res_ids), "slot": 1,
                           "borrowed_at": borrowed, "due_on": borrowed.date() + timedelta(days=days),
                           "returned_at": None, "return_condition": None, "return_note": None,
                           "channel": rnd.choice(["kiosk", "kiosk", "phone", "staff"]),
                           "returned_by_staff_id": None, "borrow_token": f"bench-b-{loan_id}",
                           "return_token": None}
                if last and is_open:
                    overdue = rnd.random() < 0.35
                    back = days + rnd.randrange(1, 20) if overdue else rnd.randrange(0, days)
                    row["borrowed_at"] = now - timedelta(days=back, hours=rnd.randrange(8))
                    row["due_on"] = row["borrowed_at"].date() + timedelta(days=days)
                    row["resident_id"] = next(open_borrowers)
                    tool["status"] = "on_loan"
                else:
                    row["returned_at"] = borrowed + timedelta(days=rnd.uniform(0.1, days * 1.3))
                    row["return_condition"] = "needs_repair" if rnd.random() < 0.03 else "fine"
                    row["return_token"] = f"bench-r-{loan_id}"
                    row["returned_by_staff_id"] = rnd.choice(staff_ids) if row["channel"] == "staff" else None
                loans.append(row)
            if tool["status"] == "available" and rnd.random() < 0.03:
                tool["status"] = rnd.choice(["in_repair", "retired"])
        put("tool", tools)
        put("loan", loans)
        events = [{"tool_id": t["id"], "kind": "added", "note": None, "staff_id": admin_id, "at": moment(1)} for t in tools]
        put("tool_event", events)

        # Courses: four terms a year; 50 registrations a term (40 seats, waiting list, cancelled),
        # a class every Saturday, attendance for the confirmed children until the target count.
        n_courses = _n(40, scale)
        term_days = span_days // max(n_courses, 1)
        courses, seats, schedules, sessions, regs, marks = [], [], [], [], [], []
        reg_id = session_id = 0
        n_regs = _n(2000, scale)
        regs_per_course = max(1, n_regs // n_courses)
        capacity = 40
        for c in range(n_courses):
            # The last term runs around today, so its page is a live one.
            starts = today - timedelta(days=60 + (n_courses - 1 - c) * term_days)
            ends = starts + timedelta(days=7 * 19)
            code = f"EN{starts:%y%m}{c:02d}"[:20]
            courses.append({"id": c + 1, "code": code, "title_zh": f"周六英语班 {starts:%Y-%m}", "title_bo": f"སྤྱི་ཟླ་ {starts:%Y-%m}",
                                "title_en": f"Saturday English {starts:%Y-%m}", "description_zh": "孩子们的英语课。",
                                "description_bo": "", "description_en": "English for the children.",
                                "teacher_id": teacher_ids[c % 2], "age_min": 6, "age_max": 14, "capacity": capacity,
                                "starts_on": starts, "ends_on": ends, "created_at": datetime.combine(starts - timedelta(days=30), clock(9))})
            seats += [{"course_id": c + 1, "number": n + 1} for n in range(capacity)]
            schedules.append({"course_id": c + 1, "kind": "term", "weekdays": "5", "starts_at": clock(10), "ends_at": clock(11, 30),
                                  "first_day": starts, "last_day": ends})
            saturday = starts + timedelta(days=(5 - starts.weekday()) % 7)
            course_sessions = []
            while saturday <= ends:
                session_id += 1
                sessions.append({"id": session_id, "course_id": c + 1, "day": saturday, "starts_at": clock(10),
                                     "ends_at": clock(11, 30), "cancelled_at": None, "cancel_note": None, "cancelled_by_id": None})
                course_sessions.append((session_id, saturday))
                saturday += timedelta(days=7)
            ticket = 0
            for r in range(regs_per_course):
                reg_id += 1
                if r < capacity:
                    status, seat, wait = "confirmed", r + 1, None
                elif r % 2 == 0:
                    ticket += 1
                    status, seat, wait = "waiting", None, ticket
                else:
                    status, seat, wait = "cancelled", None, None
                created = datetime.combine(starts, clock(9)) - timedelta(days=rnd.randrange(1, 20))
                regs.append({"id": reg_id, "course_id": c + 1, "receipt": f"R{reg_id:06d}", "form_token": f"bench-reg-{reg_id}",
                                 "guardian_id": rnd.choice(res_ids), "child_name": person_name(reg_id + 7),
                                 "child_key": f"child-{reg_id}", "child_age": 6 + reg_id % 8, "child_grade": None,
                                 "guardian_consent_at": created, "status": status, "seat": seat, "wait_ticket": wait,
                                 "channel": rnd.choice(["kiosk", "phone", "staff"]), "created_at": created,
                                 "promoted_at": None, "called_at": None,
                                 "ended_at": created + timedelta(days=3) if status == "cancelled" else None,
                                 "end_reason": "guardian" if status == "cancelled" else None, "ended_by_id": None,
                                 "created_by_id": None})
                if status == "confirmed":
                    for sid, day in course_sessions:
                        if day <= today:
                            marks.append({"session_id": sid, "registration_id": reg_id,
                                              "mark": rnd.choices(["present", "absent", "excused"], [85, 10, 5])[0],
                                              "marked_at": datetime.combine(day, clock(10, 5)),
                                              "marked_by_id": teacher_ids[c % 2]})
        rnd.shuffle(marks)
        marks = marks[:_n(30000, scale)]
        put("course", courses)
        put("course_seat", seats)
        put("course_schedule", schedules)
        put("class_session", sessions)
        put("registration", regs)
        put("attendance", marks)

        # Volunteers and partner units, then wishes and requests with their claims and fulfilments.
        vols = [{"id": v + 1, "name": person_name(v + 3), "mobile": f"138{v:08d}", "team": "红扳手", "sub_team": "general",
                     "key": f"benchvolunteer{v:06d}", "confirmed_at": moment(10), "active": True, "created_at": moment(5)}
                for v in range(_n(80, scale))]
        put("volunteer", vols)
        units = [{"id": u + 1, "name": f"共建单位{u + 1}", "contact_name": "联系人", "contact_phone": "0891-6000000",
                      "chair_quarter": "", "active": True, "created_at": moment(0)} for u in range(23)]
        put("partner_unit", units)
        wishes, claims, fulfilments = [], [], []
        n_wishes = _n(3000, scale)
        statuses = ["fulfilled"] * 70 + ["declined"] * 8 + ["published"] * 8 + ["claimed"] * 5 + \
                   ["in_progress"] * 4 + ["received"] * 4 + ["converted"] * 1
        converted = []
        for w in range(n_wishes):
            created = moment(span_days * w / n_wishes)
            recent = w > n_wishes * 0.95
            status = rnd.choice(statuses) if recent else rnd.choice(["fulfilled"] * 9 + ["declined"])
            wishes.append({"id": w + 1, "code": f"W{w + 1:05d}", "form_token": f"bench-wish-{w + 1}",
                               "kind": rnd.choice(["wish", "repair", "help"]),
                               "category": rnd.choice(["school", "daily", "health", "repair", "paperwork", "company", "other"]),
                               "description": "想要一套儿童绘本，给孩子在家读。" if w % 2 else "楼道的灯坏了，请帮忙修一下。",
                               "building_unit": f"{1 + w % 40}栋", "visit_times": "周末上午", "photo": None,
                               "resident_id": rnd.choice(res_ids), "consent_at": created, "channel": rnd.choice(["kiosk", "phone", "staff"]),
                               "device": "", "status": status, "alias": f"{SURNAMES[w % len(SURNAMES)]}阿姨", "area": f"{1 + w % 40}栋",
                               "decline_reason": "不在服务范围" if status == "declined" else "", "merged_into_id": None,
                               "assigned_volunteer_id": None, "created_at": created,
                               "published_at": None if status in ("received", "declined") else created + timedelta(hours=5),
                               "closed_at": created + timedelta(days=6) if status in ("fulfilled", "declined", "converted") else None,
                               "reviewed_by_id": admin_id, "rating": rnd.choice([4, 5, 5, None]) if status == "fulfilled" else None,
                               "thanks": "", "rated_at": None})
            if status in ("claimed", "in_progress", "fulfilled"):
                by_vol = w % 3 != 0
                claims.append({"wish_id": w + 1, "volunteer_id": rnd.choice(vols)["id"] if by_vol else None,
                                   "partner_unit_id": None if by_vol else rnd.choice(units)["id"],
                                   "status": "confirmed", "note": "", "form_token": f"bench-claim-{w + 1}",
                                   "created_at": created + timedelta(days=1), "decided_at": created + timedelta(days=1),
                                   "decided_by_id": admin_id})
            if status == "fulfilled":
                fulfilments.append({"wish_id": w + 1, "done_on": (created + timedelta(days=5)).date(),
                                         "volunteer_id": rnd.choice(vols)["id"], "partner_unit_id": None,
                                         "what_was_done": "送去了。", "minutes": rnd.randrange(20, 240), "photo": None,
                                         "recorded_by_id": admin_id, "created_at": created + timedelta(days=6)})
            if status == "converted":
                converted.append(w + 1)
        put("wish", wishes)
        put("claim", claims)
        put("fulfilment", fulfilments)

        # Afternoon teas: two a month, a dozen invited, most of them come.
        n_teas = _n(240, scale)
        teas, invites, sign_ins = [], [], []
        for s in range(n_teas):
            day = first_day + timedelta(days=round(span_days * (s + 1) / (n_teas + 1)))
            teas.append({"id": s + 1, "day": day, "starts_at": clock(15), "ends_at": clock(16, 30), "place": "二楼活动室",
                             "theme": "社区议事", "host": "书记", "officials": "", "target": 12, "created_at": moment(0),
                             "created_by_id": admin_id})
            for r in rnd.sample(res_ids, min(12, len(res_ids))):
                answer = rnd.choices(["accepted", "declined", "no_answer"], [7, 2, 1])[0]
                invites.append({"session_id": s + 1, "resident_id": r, "answer": answer,
                                    "invited_at": datetime.combine(day, clock(9)) - timedelta(days=7), "answered_at": None})
                if answer == "accepted":
                    sign_ins.append({"session_id": s + 1, "resident_id": r, "how": rnd.choice(["qr", "tablet", "staff"]),
                                         "at": datetime.combine(day, clock(15, 5))})
        put("tea_session", teas)
        put("tea_invitation", invites)
        put("tea_sign_in", sign_ins)

        # Concerns with one to three follow-ups.
        n_concerns = _n(4000, scale)
        concerns, steps = [], []
        cats = ["roads_drains", "sanitation_bins", "public_toilets", "housing_repairs", "permits_paperwork",
                "employment", "benefits", "safety", "neighbours", "other"]
        for c in range(n_concerns):
            created = moment(span_days * c / n_concerns)
            recent = c > n_concerns * 0.95
            status = rnd.choice(["open", "in_progress", "referred", "answered"]) if recent else \
                rnd.choice(["resolved", "resolved", "informed", "answered", "closed_unresolved"])
            from_wish = converted.pop() if converted and c % 7 == 0 else None
            source = "wish" if from_wish else rnd.choice(["tea", "walk_in", "phone_call", "other"])
            concerns.append({"id": c + 1, "code": f"C{c + 1:05d}", "category": rnd.choice(cats), "description": "路口积水，老人出行不便。",
                                 "place": f"{1 + c % 40}栋", "urgency": rnd.choice(["low", "normal", "normal", "high"]),
                                 "source": source, "session_id": rnd.choice(teas)["id"] if source == "tea" else None,
                                 "resident_id": rnd.choice(res_ids), "from_wish_id": from_wish, "status": status,
                                 "answer": "已答复。" if status in ("answered", "informed") else "", "proposed_solution": "",
                                 "responsible_body": "街道办", "due_on": created.date() + timedelta(days=30), "closed_reason": "",
                                 "satisfied": (rnd.random() < 0.8) if status in ("answered", "informed") else None,
                                 "created_at": created, "created_by_id": rnd.choice(staff_ids),
                                 "closed_at": created + timedelta(days=20) if status in ("resolved", "informed", "closed_unresolved") else None})
            for k in range(rnd.randrange(1, 4)):
                steps.append({"concern_id": c + 1, "at": created + timedelta(days=2 + 5 * k), "staff_id": rnd.choice(staff_ids),
                                  "note": "已跟进。", "status": None})
        put("concern", concerns)
        put("concern_step", steps)

        # The audit log: 200 staff changes a week for ten years.
        n_weeks = YEARS * 52
        audit = []
        per_week = max(1, round(200 * scale))
        for week in range(n_weeks):
            for a in range(per_week):
                audit.append({"at": moment(week * 7 + rnd.uniform(0, 6.9)), "staff_id": rnd.choice(staff_ids),
                                  "action": rnd.choice(["create", "update", "update", "delete"]),
                                  "record_type": rnd.choice(["tool", "resident", "wish", "concern", "course"]),
                                  "record_id": str(rnd.randrange(1, 500)), "changes": {"status": ["a", "b"]}})
        put("audit_entry", audit)

        # PostgreSQL: explicit ids leave the sequences behind; move them past the rows.
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                for name, table in tables.items():
                    if "id" in table.c and table.c.id.primary_key and table.c.id.autoincrement:
                        conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                                          f"COALESCE((SELECT MAX(id) FROM {name}), 0) + 1, false)"))
            # A hall's database that has run for years is vacuumed and analysed; without this the
            # bench would measure autovacuum catching up with 200,000 fresh rows, and plans made
            # without statistics.
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        else:
            with db.engine.begin() as conn:
                conn.execute(text("ANALYZE"))
        db.session.remove()
        db.engine.dispose()

    seconds = time.perf_counter() - started
    if not quiet:
        print(f"generated scale {scale} seed {seed} in {seconds:.1f} s:")
        for name, count in sorted(counts.items()):
            print(f"  {name:18} {count:>8}")
    return {"seconds": round(seconds, 2), "rows": counts, "anchor_day": today.isoformat()}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", help="SQLAlchemy URL, e.g. sqlite:////abs/path.sqlite or postgresql+psycopg://...")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=9)
    args = parser.parse_args()
    build(args.url, args.scale, args.seed)


if __name__ == "__main__":
    main()
