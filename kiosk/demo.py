"""A believable demo hall: 15 kinds of tool, 40 tools, a dozen residents, some loans (one overdue),
one tool in repair; the Saturday English class with this term's dates, 18 children and some
attendance; wishes, volunteers and partner units; afternoon teas and their concerns; four
activities with sign-ups, six months of the staff work log, and the partner alliance's joint
meetings with their agenda items and resource matches. Loaded by `make run` when the database
has no tools."""
import random
import secrets
from datetime import date, datetime, time, timedelta
from uuid import uuid4

from sqlalchemy import select, update

from . import activities, alliance, classes, ledger, lending, tea, wishes, worklog
from .auth import create_staff
from .database import write_transaction
from .extensions import db
from .models import (AgendaItem, AgendaStep, Concern, ConcernStep, Loan, PartnerUnit,
                     Registration, Resident, SignUp, StaffUser, Tool, ToolKind, Volunteer, Wish, WorkLogEntry)
from .models.base import utcnow

# (中文, བོད་ཡིག, English, pictogram, loan days, how many)
KINDS = [
    ("锤子", "ཐོ་བ།", "Hammer", "🔨", 7, 4),
    ("扳手", "གཉའ་འཛིན།", "Wrench", "🔧", 7, 4),
    ("钳子", "སྐམ་པ།", "Pliers", "🗜️", 7, 3),
    ("螺丝刀", "གཅུས་འཁོར།", "Screwdriver", "🪛", 7, 4),
    ("人字梯", "སྐས་ཀ", "Step ladder", "🪜", 3, 2),
    ("电钻", "གློག་སྦྱིན་འཕྲུལ་འཁོར།", "Electric drill", "🛠️", 3, 3),
    ("手推车", "ལག་འཐེན་འཁོར་ལོ།", "Cart", "🛒", 3, 2),
    ("安全帽", "ཉེན་སྲུང་ཞྭ་མོ།", "Safety helmet", "⛑️", 7, 3),
    ("卷尺", "འཇལ་ཐིག", "Tape measure", "📏", 7, 3),
    ("锯子", "སོག་ལེ།", "Saw", "🪚", 7, 2),
    ("手电筒", "ལག་གློག", "Torch", "🔦", 7, 2),
    ("水平仪", "ཆུ་ཚད་འཇལ་ཆས།", "Spirit level", "📐", 7, 2),
    ("疏通器", "ཆུ་ལམ་སེལ་ཆས།", "Drain unblocker", "🚿", 3, 2),
    ("胶枪", "སྦྱར་རྩི་མེ་མདའ།", "Glue gun", "🔫", 7, 2),
    ("延长线插座", "གློག་སྐུད་རིང་བསྣར།", "Extension lead", "🔌", 7, 2),
]

RESIDENTS = [
    ("次仁卓玛", "13908901234", "3号楼2单元"), ("王建国", "13989012345", "1号楼1单元"),
    ("扎西顿珠", "18908912345", "5号楼3单元"), ("李秀英", "13628901122", "2号楼1单元"),
    ("格桑央宗", "15289013344", "3号楼1单元"), ("张伟", "17708915566", "6号楼2单元"),
    ("普布次仁", "13549017788", "4号楼2单元"), ("刘芳", "18389019900", "1号楼3单元"),
    ("达瓦", "13308902211", "5号楼1单元"), ("陈明", "15908904433", "2号楼2单元"),
    ("央金拉姆", "18808906655", "6号楼1单元"), ("赵丽", "13708908877", "4号楼1单元"),
]


# (child's name, age, guardian's name, guardian's mobile); guardians not in RESIDENTS are added.
CHILDREN = [
    ("次仁旺姆", 8, "次仁卓玛", "13908901234"), ("王小军", 10, "王建国", "13989012345"),
    ("扎西平措", 9, "扎西顿珠", "18908912345"), ("李明轩", 11, "李秀英", "13628901122"),
    ("格桑曲珍", 7, "格桑央宗", "15289013344"), ("张子涵", 12, "张伟", "17708915566"),
    ("普布扎西", 9, "普布次仁", "13549017788"), ("刘雨桐", 8, "刘芳", "18389019900"),
    ("达瓦卓嘎", 10, "达瓦", "13308902211"), ("陈思远", 13, "陈明", "15908904433"),
    ("央金德吉", 7, "央金拉姆", "18808906655"), ("赵一鸣", 11, "赵丽", "13708908877"),
    ("索朗多吉", 9, "索朗", "13908905566"), ("拉姆措", 8, "白玛", "13889017711"),
    ("孙浩然", 10, "孙静", "15089013322"), ("旦增尼玛", 12, "旦增", "18189014455"),
    ("周欣怡", 6, "周红", "13989016677"), ("边巴次仁", 11, "边巴", "17389018899"),
]
COURSE_TEXT = {
    "title": ("周六英语课堂", "གཟའ་སྤེན་པའི་དབྱིན་ཡིག་སློབ་ཁྲིད།", "Saturday English class"),
    "description": (
        "每周六上午：一小时作业辅导，一小时英语基础（阅读、发音）。免费。",
        "གཟའ་སྤེན་པའི་སྔ་དྲོ། ཆུ་ཚོད་གཅིག་ཁྱིམ་ལས་རོགས་རམ། ཆུ་ཚོད་གཅིག་དབྱིན་ཡིག་གཞི་རྩ། རིན་མེད།",
        "Every Saturday morning: one hour of homework help, then one hour of basic English "
        "(reading, pronunciation). Free."),
}


def load_demo(teacher_password: str | None = None) -> str:
    """Load the demo hall; returns the password of the demo teacher account `teacher`."""
    with write_transaction() as s:
        kinds = []
        for zh, bo, en, pic, days, _n in KINDS:
            kind = ToolKind(name_zh=zh, name_bo=bo, name_en=en, pictogram=pic, loan_days=days)
            s.add(kind)
            kinds.append(kind)
        s.add_all(Resident(name=n, mobile=m, building_unit=u, consent_at=utcnow()) for n, m, u in RESIDENTS)
    admin = db.session.scalar(select(StaffUser).where(StaffUser.role == "admin").order_by(StaffUser.id))
    for kind, (*_, n) in zip(kinds, KINDS):
        for i in range(n):
            lending.add_tool(kind.id, admin.id, donated_by="居民捐赠" if i == n - 1 and n > 2 else None)
    residents = list(db.session.scalars(select(Resident).order_by(Resident.id)))
    tools = list(db.session.scalars(select(Tool).order_by(Tool.id)))
    # Five open loans, borrowed at the hall; the first is made overdue below.
    for resident, tool in zip(residents[:5], tools[0::8]):
        lending.borrow(tool.id, resident.id, str(uuid4()), channel="kiosk")
    with write_transaction() as s:
        late = s.scalar(select(Loan).order_by(Loan.id))
        late.borrowed_at = utcnow() - timedelta(days=12)
        late.due_on = lending.hall_today() - timedelta(days=5)
    drill = next(t for t in tools if t.kind.name_en == "Electric drill" and t.status == "available")
    lending.send_to_repair(drill.id, admin.id, note="电池不充电 / the battery does not charge")
    teacher_password = teacher_password or secrets.token_urlsafe(9)
    _english_class(admin.id, create_staff("teacher", teacher_password, role="teacher",
                                          display_name="卓嘎老师").id)
    _wishes(admin.id)
    _tea(admin.id)
    worker = create_staff("zhuoma", secrets.token_urlsafe(12), role="staff", display_name="社工 卓玛").id
    _activities(admin.id)
    _work_log(admin.id, worker)
    _alliance(admin.id, worker)
    return teacher_password


def _term(today: date) -> tuple[date, date, date, date, list[tuple[date, str]]]:
    """This school term around `today`: (first Saturday-term day, last term day, holiday start,
    holiday end, [(public holiday, its name)]). Autumn runs Sept-Jan with the winter holiday,
    spring runs March-July with the summer holiday."""
    if today.month >= 8 or today.month == 1:
        year = today.year if today.month >= 8 else today.year - 1
        return (date(year, 9, 1), date(year + 1, 1, 16), date(year + 1, 1, 25), date(year + 1, 2, 5),
                [(date(year, 10, 1), "国庆节 National Day"), (date(year + 1, 1, 1), "元旦 New Year")])
    return (date(today.year, 3, 1), date(today.year, 7, 10), date(today.year, 7, 20),
            date(today.year, 8, 14),
            [(date(today.year, 5, 1), "劳动节 Labour Day"), (date(today.year, 6, 1), "六一 Children's Day")])


def _english_class(admin_id: int, teacher_id: int) -> None:
    today = lending.hall_today()
    first, last, holiday_from, holiday_to, public_holidays = _term(today)
    course = classes.save_course(classes.CourseFields(
        "ENGLISH", *COURSE_TEXT["title"], *COURSE_TEXT["description"], teacher_id=teacher_id,
        age_min=6, age_max=13, capacity=20, starts_on=first, ends_on=holiday_to))
    classes.add_schedule(course.id, "term", [5], time(9), time(11), first, last)
    classes.add_schedule(course.id, "holiday", [0, 1, 2, 3, 4], time(9), time(11), holiday_from, holiday_to)
    for day, name in public_holidays:  # the first class date in that holiday's week: no class
        holiday = classes.sessions(course.id, start=day, limit=1)[0]
        classes.cancel_date(holiday.id, name, admin_id)

    with write_transaction() as s:
        known = {r.mobile: r for r in s.scalars(select(Resident))}
        for _child, _age, guardian, mobile in CHILDREN:
            if mobile not in known:
                known[mobile] = Resident(name=guardian, mobile=mobile, consent_at=utcnow())
                s.add(known[mobile])
        s.flush()
        guardians = {mobile: r.id for mobile, r in known.items()}
    registered = [classes.register(course.id, guardians[mobile], child, age, None, True, str(uuid4()),
                                   channel=random.Random(child).choice(["kiosk", "phone"])).id
                  for child, age, _guardian, mobile in CHILDREN]
    with write_transaction() as s:  # they registered before term began
        s.execute(update(Registration).where(Registration.id.in_(registered))
                  .values(created_at=datetime.combine(first, time(10)) - timedelta(days=7)))

    # Attendance on the held Saturdays so far: mostly present, a few absences and excuses, and
    # one child absent three times in a row (the back office flags them).
    rng = random.Random(2026)
    held = [s for s in classes.sessions(course.id, start=first, include_cancelled=False) if s.day < today]
    for n, session in enumerate(held):
        for i, registration_id in enumerate(registered):
            if i == 5 and n >= len(held) - 3:
                mark = "absent"
            else:
                mark = rng.choices(["present", "absent", "excused"], weights=[88, 6, 6])[0]
            classes.mark(session.id, registration_id, mark, teacher_id)



# (name, contact, phone, quarter offset from this one in which it chairs the alliance or None)
PARTNER_UNITS = [
    ("雪域律师事务所", "次旦律师", "0891-6331234", 0), ("城关区社区卫生服务站", "李医生", "0891-6332345", 1),
    ("仁康藏医诊所", "边巴医生", "0891-6333456", 2), ("吉祥百货超市", "王经理", "0891-6334567", 3),
    ("拉萨市第一小学", "卓玛老师", "0891-6335678", None), ("邮政储蓄银行城关支行", "张行长", "0891-6336789", None),
    ("爱心大药房", "陈店长", "0891-6337890", None), ("雪城家政服务公司", "格桑", "0891-6338901", None),
]
# (name, mobile, team, sub-team)
VOLUNTEERS = [
    ("洛桑", "13908911001", "红扳手志愿服务队", "repair_skills"),
    ("刘建军", "13908911002", "红扳手志愿服务队", "repair_skills"),
    ("尼玛次仁", "13908911003", "红扳手志愿服务队", "repair_skills"),
    ("德吉", "13908911004", "社区志愿服务队", "elderly_health"),
    ("周敏", "13908911005", "社区志愿服务队", "elderly_health"),
    ("扎西", "13908911006", "社区志愿服务队", "mobility_care"),
    ("赵静", "13908911007", "社区志愿服务队", "legal_help"),
    ("白玛", "13908911008", "社区志愿服务队", "general"),
]
# (resident's mobile, kind, category, description, visit times, days ago, what becomes of it)
WISHES = [
    ("13908901234", "wish", "school", "孙子上三年级，想要一个新书包和文具。", "", 2, "received"),
    ("13989012345", "repair", "repair", "厨房水龙头一直漏水，关不紧。", "工作日下午", 1, "received"),
    ("18908912345", "wish", "daily", "奶奶眼睛不好，想要一盏护眼台灯。", "", 9, "published"),
    ("13628901122", "help", "company", "老伴住院，希望有人每周来陪我聊聊天。", "周二、周四上午", 6, "published"),
    ("15289013344", "wish", "health", "需要借一个轮椅两个月。", "", 12, "published"),
    ("17708915566", "wish", "school", "两个孩子需要冬天的校服。", "", 15, "claimed"),
    ("13549017788", "repair", "repair", "卫生间灯坏了，够不着换。", "周末都可以", 5, "assigned"),
    ("18389019900", "help", "paperwork", "不会在手机上办社保认证，想请人教一下。", "上午", 20, "confirmed"),
    ("13308902211", "wish", "daily", "想要一个电热水壶。", "", 40, "fulfilled_rated"),
    ("15908904433", "repair", "repair", "门锁坏了，钥匙插不进去。", "随时", 30, "fulfilled_assigned"),
    ("18808906655", "wish", "other", "想要一台新手机。", "", 18, "declined"),
    ("13708908877", "wish", "school", "孙子上三年级，想要书包。", "", 1, "merged"),
    ("13908901234", "help", "other", "3号楼门口没有垃圾桶，垃圾堆在路边。", "", 10, "converted"),
]


def _wishes(admin_id: int) -> None:
    today = lending.hall_today()
    quarter = (today.month - 1) // 3
    units = [wishes.save_partner_unit(
        name, contact, phone,
        "" if offset is None else f"{today.year + (quarter + offset) // 4}-Q{(quarter + offset) % 4 + 1}")
        for name, contact, phone, offset in PARTNER_UNITS]
    helpers = [wishes.save_volunteer(name, mobile, team, sub_team) for name, mobile, team, sub_team in VOLUNTEERS]
    repairer, elderly, paperwork = helpers[0], helpers[3], helpers[6]
    residents = {r.mobile: r.id for r in db.session.scalars(select(Resident))}
    made = {}
    for mobile, kind, category, text, times, days_ago, fate in WISHES:
        request = wishes.Request(kind, category, text, _unit_of(mobile), times)
        wish = wishes.submit(residents[mobile], request, str(uuid4()), channel="phone", limited=False)
        made[fate] = wish
        with write_transaction() as s:
            s.get(Wish, wish.id).created_at = utcnow() - timedelta(days=days_ago, hours=3)
        alias, area = "居民" + RESIDENT_NAMES[mobile][0], _unit_of(mobile).split("单元")[0].split("号楼")[0] + "号楼"
        if fate == "received":
            continue
        if fate == "merged":
            wishes.merge(wish.id, made["received"].code, admin_id)
        elif fate == "declined":
            wishes.decline(wish.id, "超出微心愿的范围（一般在200元以内），建议联系民政窗口。", admin_id)
        elif fate == "converted":
            wishes.convert_to_concern(wish.id, "sanitation_bins", admin_id)
        elif fate in ("assigned", "fulfilled_assigned"):
            wishes.assign(wish.id, repairer.id, admin_id)
        else:
            wishes.publish(wish.id, alias, area, admin_id)
            with write_transaction() as s:  # published the day after it came in
                s.get(Wish, wish.id).published_at = utcnow() - timedelta(days=max(days_ago - 1, 0), hours=1)
            if fate == "claimed":
                wishes.claim(wish.id, str(uuid4()), partner_unit_id=units[3].id, note="我们可以捐赠校服")
            elif fate == "confirmed":
                wishes.confirm_claim(wishes.claim(wish.id, str(uuid4()), paperwork.mobile, paperwork.name).id, admin_id)
            elif fate == "fulfilled_rated":
                wishes.confirm_claim(wishes.claim(wish.id, str(uuid4()), elderly.mobile, elderly.name).id, admin_id)
        if fate.startswith("fulfilled"):
            wishes.fulfil(wish.id, wishes.Done(today - timedelta(days=days_ago // 2),
                                               "已送到家中" if fate == "fulfilled_rated" else "更换了门锁芯",
                                               45 if fate == "fulfilled_rated" else 90), admin_id)
        if fate == "fulfilled_rated":
            wishes.thank(wish.id, 5, "谢谢志愿者，水壶很好用！")
        with write_transaction() as s:  # an ended wish ended about halfway between then and now
            ended = s.get(Wish, wish.id)
            if ended.closed_at is not None:
                ended.closed_at = utcnow() - timedelta(days=days_ago // 2)


RESIDENT_NAMES = {mobile: name for name, mobile, _unit in RESIDENTS}


def _unit_of(mobile: str) -> str:
    return next((unit for _name, m, unit in RESIDENTS if m == mobile), "")


# (category, what was said, place, how it goes: answered on the spot, or the follow-up path)
TEA_CONCERNS = [
    ("roads_drains", "3号楼后面50米的下水道经常堵，一下雨就漫到路上。", "3号楼后", "in_progress",
     "申请街道办专项资金，更换管道", "街道办事处"),
    ("neighbours", "楼上邻居晚上装修太吵。", "5号楼", "open", "社区调解员上门协调", "社区居委会"),
    ("permits_paperwork", "外地来的女婿怎么办居住证？", "", "answered",
     "社区民警现场讲解了居住证办理流程和材料。", ""),
    ("public_toilets", "东门公共厕所太旧，冬天水管冻裂。", "东门", "referred", "报请城管局维修改造", "城管局"),
    ("benefits", "高龄津贴这个月没有到账。", "", "informed", "核对名单后补发", "街道办事处"),
    ("employment", "孩子毕业一年还没找到工作，希望有培训机会。", "", "resolved", "推荐参加人社局职业技能培训", "人社局"),
    ("safety", "小区南边的路灯坏了三个月。", "南门外道路", "closed_unresolved",
     "联系路灯管理所", "城管局"),
]


def _tea_days(today: date) -> list[date]:
    """The first and third Wednesday of each month: six past teas and the next one."""
    days = []
    year, month = today.year, today.month - 4
    while len([d for d in days if d > today]) < 1:
        if month < 1:
            year, month = year - 1, month + 12
        if month > 12:
            year, month = year + 1, month - 12
        first = date(year, month, 1)
        wednesday = first + timedelta(days=(2 - first.weekday()) % 7)
        days += [wednesday, wednesday + timedelta(days=14)]
        month += 1
    past = [d for d in days if d < today][-6:]
    return past + [next(d for d in days if d > today)]


# More neighbours, so that invitations can rotate: family names and given names, Tibetan and Han.
NEIGHBOURS = [f"{family}{given}" for family, given in zip(
    "次仁 扎西 格桑 多吉 洛桑 平措 尼玛 达瓦 旦增 索朗 王 李 张 刘 陈 杨 赵 黄 周 吴 徐 孙 马 朱 胡 郭 何 高 "
    "林 罗 郑 梁 谢 宋 唐 许 韩 冯 邓 曹 彭 曾".split(),
    "卓嘎 拉姆 曲珍 央吉 德吉 巴桑 顿珠 次旦 罗布 白玛 秀兰 桂英 建华 志强 玉兰 海燕 国庆 淑芬 明 强 "
    "丽 军 敏 静 勇 艳 杰 涛 磊 娟 霞 平 刚 芳 华 燕 鹏 辉 红 超 斌 亮".split())]


def _neighbours() -> None:
    with write_transaction() as s:
        s.add_all(Resident(name=name, mobile=f"1358901{n:04d}", building_unit=f"{n % 6 + 1}号楼{n % 3 + 1}单元",
                           consent_at=utcnow(), tea_opt_out=(n % 17 == 5))
                  for n, name in enumerate(NEIGHBOURS))


def _tea(admin_id: int) -> None:
    _neighbours()
    today = lending.hall_today()
    days = _tea_days(today)
    themes = ["小区环境", "老年人服务", "就业与培训", "安全与治安", "邻里和睦", "冬季取暖", "新年活动"]
    sessions = [tea.save_session(tea.SessionFields(day, time(15), time(17), "党群服务中心二楼会议室", theme,
                                                   "社区书记 央宗", "社区书记 央宗, 民警 李强, 社工 卓玛", 12),
                                 admin_id) for day, theme in zip(days, themes)]
    rng = random.Random(7)
    for session in sessions:
        chosen = tea.suggest(session.id)
        tea.invite(session.id, [s.resident.id for s in chosen])
        if session.day > today:
            continue
        for invitation in tea.invitations(session.id):
            answer = rng.choices(["accepted", "declined", "no_answer"], weights=[75, 15, 10])[0]
            tea.record_answer(invitation.id, answer)
            if answer == "accepted":
                tea.sign_in(session.id, invitation.resident_id, rng.choice(["qr", "tablet"]))
    held = [s for s in sessions if s.day < today]
    for n, (category, said, place, fate, plan, body) in enumerate(TEA_CONCERNS):
        session = held[n % len(held)]
        raised = ledger.Raised(category, said, place=place, source="tea", session_id=session.id,
                               answer=plan if fate == "answered" else "",
                               proposed_solution="" if fate == "answered" else plan,
                               responsible_body=body, due_on=None if fate == "answered" else today + timedelta(days=30))
        concern = ledger.record(raised, admin_id)
        path = {"referred": ["referred"], "in_progress": ["referred", "in_progress"],
                "resolved": ["referred", "in_progress", "resolved"],
                "informed": ["referred", "in_progress", "resolved", "informed"],
                "closed_unresolved": ["referred", "closed_unresolved"]}.get(fate, [])
        notes = {"referred": f"已转交{body}", "in_progress": "已立项，等待施工", "resolved": "问题已解决",
                 "informed": "已电话告知居民", "closed_unresolved": "路灯属市政管理，社区已反映三次，暂无答复"}
        for status in path:
            ledger.follow_up(concern.id, notes[status], admin_id, status=status,
                             satisfied=True if status == "informed" else None)
        with write_transaction() as s:  # raised at that tea; the follow-up steps came after it
            at = datetime.combine(session.day, time(16)) - timedelta(hours=8)
            s.get(Concern, concern.id).created_at = at
            for i, step in enumerate(s.scalars(select(ConcernStep).where(ConcernStep.concern_id == concern.id)
                                               .order_by(ConcernStep.id))):
                step.at = at + timedelta(days=4 * i)
            if fate == "referred":  # one concern is past its due date: the ledger flags it
                s.get(Concern, concern.id).due_on = today - timedelta(days=3)


# --- Issue 10: activities, the work log, the partner alliance -------------------------------------

def _unit(name: str) -> int:
    return db.session.scalar(select(PartnerUnit.id).where(PartnerUnit.name == name))


def _next_weekday(day: date, weekday: int) -> date:
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def _at(day: date, hour: int) -> datetime:
    """A hall-time hour of a day, stored as naive UTC (the hall is at UTC+8)."""
    return datetime.combine(day, time(hour)) - timedelta(hours=8)


def _activities(admin_id: int) -> None:
    """Four activities: a free health check last month and a cultural evening this month, both held
    with attendance; a legal-advice morning in the coming week with a few sign-ups; a holiday outing
    next month, full, with a waiting list (one family moved up and still to be called)."""
    today = lending.hall_today()
    clinic, law_firm = _unit("城关区社区卫生服务站"), _unit("雪域律师事务所")
    next_month = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    plans = [
        ("HEALTH-CHECK", ("免费健康体检", "འཕྲོད་བསྟེན་ཞིབ་དཔྱད་རིན་མེད།", "Free health check"),
         ("测血压、血糖，医生现场解答用药问题。请空腹前来。",
          "ཁྲག་ཤེད་དང་ཁྲག་གི་ཞོ་ཐང་ཚད་འཇལ། སྨན་པས་སྨན་སྐོར་གྱི་དྲི་བར་ལན་འདེབས།",
          "Blood pressure and blood sugar checks; a doctor answers questions about medicines. Please come "
          "without breakfast."),
         today - timedelta(days=30), time(9), time(11, 30), "党群服务中心一楼大厅", None, "partner", "", clinic),
        ("CULTURE-EVENING", ("民族文化交流晚会", "མི་རིགས་རིག་གནས་བརྗེ་རེས་དགོང་ཚོགས།", "Cultural exchange evening"),
         ("锅庄舞、藏戏选段和家乡美食分享，邻里一起过一个热闹的晚上。",
          "སྒོར་གཞས་དང་ལྷ་མོའི་དུམ་བུ། ཕ་ཡུལ་གྱི་ཟས་རིགས་མཉམ་སྤྱོད།",
          "Circle dancing, Tibetan opera and food from home: an evening together with the neighbours."),
         max(today.replace(day=1), today - timedelta(days=4)), time(19), time(21), "社区广场", 80, "team",
         "社区志愿服务队", None),
        ("LEGAL-MORNING", ("法律咨询上午", "ཁྲིམས་ལུགས་བློ་འདྲི་སྔ་དྲོ།", "Legal-advice morning"),
         ("律师免费解答赡养、继承、租房、劳动合同等问题。",
          "རྒན་གསོ་དང་ཤུལ་བཞག ཁང་གླ། ལས་ཀའི་གན་རྒྱ་སོགས་ཀྱི་དྲི་བར་རིན་མེད་ལན་འདེབས།",
          "A lawyer answers questions on caring for parents, inheritance, renting and work contracts, free."),
         today + timedelta(days=5), time(9, 30), time(11, 30),
         "党群服务中心二楼会议室", 20, "partner", "", law_firm),
        ("HOLIDAY-OUTING", ("假日出游：罗布林卡", "གཟའ་འཁོར་མཇུག་གི་རྒྱུ་སྐྱོད། ནོར་བུ་གླིང་ཁ།", "Holiday outing: Norbulingka"),
         ("社区组织老人和孩子游览罗布林卡，统一乘车，中午自带午餐。",
          "རྒན་པ་དང་བྱིས་པ་ནོར་བུ་གླིང་ཁར་འགྲུལ་བཞུད། སྣུམ་འཁོར་མཉམ་དུ་འགྲོ།",
          "The hall takes older residents and children to the Norbulingka by coach; bring your own lunch."),
         _next_weekday(next_month, 5), time(9), time(16), "党群服务中心门口集合", 10, "staff", "", None),
    ]
    made = {}
    for code, title, description, day, starts, ends, place, capacity, organiser, team, unit in plans:
        made[code] = activities.save_activity(activities.ActivityFields(
            code, *title, *description, day, starts, ends, place, capacity, organiser, team, unit), staff_id=admin_id)
    residents = list(db.session.scalars(select(Resident.id).where(Resident.erased_at.is_(None)).order_by(Resident.id)))
    rng = random.Random(10)

    def sign_ups(activity, people, before: date, channels=("kiosk", "phone", "phone", "staff")):
        places = []
        for k, resident_id in enumerate(people):
            channel = rng.choice(channels)
            place = activities.sign_up(activity.id, resident_id, str(uuid4()), channel,
                                       staff_id=admin_id if channel == "staff" else None, today=before)
            places.append(place.id)
            with write_transaction() as s:  # they signed up over the days before
                s.get(SignUp, place.id).created_at = _at(before, 9) + timedelta(hours=5 * k)
        return places

    health = made["HEALTH-CHECK"]
    for place in sign_ups(health, residents[:14], health.day - timedelta(days=8)):
        activities.mark(place, rng.random() < 0.85, today=health.day)
    culture = made["CULTURE-EVENING"]
    for place in sign_ups(culture, residents[20:46], culture.day - timedelta(days=10)):
        activities.mark(place, rng.random() < 0.9, today=culture.day)
    legal = made["LEGAL-MORNING"]
    sign_ups(legal, residents[2:8], today - timedelta(days=3))
    outing = made["HOLIDAY-OUTING"]
    places = sign_ups(outing, residents[30:43], today - timedelta(days=6))
    activities.cancel_place(places[3])  # one gives up a seat: the first waiting moves up, to be called
    alliance.match_activity(health.id, health.partner_unit_id, admin_id)
    alliance.match_activity(legal.id, legal.partner_unit_id, admin_id)


# (kind key or the added kind, days ago, places, households, note, with volunteers)
WORK = [
    ("home_visit", 172, "3号楼2单元 4户", 4, "走访独居老人，了解冬季取暖需求。", True),
    ("safety_check", 165, "1-6号楼 楼道", 0, "检查楼道灭火器，3号楼2单元灭火器过期，已更换。", False),
    ("clean_up", 158, "东门垃圾点", 0, "清理东门堆积垃圾，联系环卫加一次清运。", True),
    ("care_call", 150, "独居老人 12户", 12, "电话问候，两位老人需要上门送药。", False),
    ("awareness_talk", 143, "党群服务中心二楼", 0, "防诈骗宣传讲座，32位居民参加。", True),
    ("home_visit", 131, "5号楼1单元 3户", 3, "走访残疾人家庭，协助申请补贴。", False),
    ("flood", 124, "3号楼后下水道", 0, "雨后巡查，下水道积水，已报街道办。", True),
    ("clean_up", 117, "小区南侧绿地", 0, "志愿者捡拾垃圾、修剪灌木。", True),
    ("safety_check", 110, "小区燃气管道", 0, "与燃气公司一起检查，2户需更换软管。", False),
    ("care_call", 103, "高龄老人 15户", 15, "核对高龄津贴到账情况。", False),
    ("home_visit", 96, "2号楼1-2单元 5户", 5, "走访困难家庭，登记微心愿。", True),
    ("awareness_talk", 89, "社区广场", 0, "消防安全宣传，演示灭火器使用。", True),
    ("clean_up", 82, "4号楼楼道", 0, "清理楼道堆放杂物。", True),
    ("flood", 75, "东门低洼处", 0, "汛期巡查，无积水。", False),
    ("home_visit", 68, "6号楼2单元 2户", 2, "回访新搬来的住户，介绍党群服务中心。", False),
    ("care_call", 61, "独居老人 12户", 12, "秋季电话问候。", False),
    ("safety_check", 54, "电动车充电点", 0, "检查充电桩，清理楼道里充电的电动车。", True),
    ("awareness_talk", 47, "党群服务中心二楼", 0, "医保政策宣讲，社区卫生服务站医生参加。", False),
    ("home_visit", 40, "1号楼3单元 3户", 3, "走访独居老人，送去冬衣。", True),
    ("clean_up", 33, "小区主路", 0, "落叶清扫。", True),
    ("care_call", 26, "高龄老人 8户", 8, "降温提醒。", False),
    ("home_visit", 19, "3号楼1单元 4户", 4, "走访，了解取暖和用电安全。", True),
    ("safety_check", 12, "1-6号楼 楼道", 0, "冬季消防检查，楼道畅通。", False),
    ("awareness_talk", 7, "社区广场", 0, "冬季取暖防一氧化碳中毒宣传。", True),
    ("home_visit", 2, "5号楼3单元 2户", 2, "走访行动不便的老人，登记上门维修需求。", True),
]


def _work_log(admin_id: int, worker_id: int) -> None:
    today = lending.hall_today()
    flood = worklog.add_kind("防汛巡查", "ཆུ་ལོག་སྔོན་འགོག་ལྟ་ཞིབ།", "Flood watch", "🌧️")
    kinds = {k.key: k.id for k in worklog.kinds() if k.key} | {"flood": flood.id}
    volunteers = list(db.session.scalars(select(Volunteer.id).where(Volunteer.confirmed_at.is_not(None))
                                         .order_by(Volunteer.id)))
    rng = random.Random(6)
    for n, (kind, days_ago, places, households, note, with_volunteers) in enumerate(WORK):
        staff = [worker_id] if n % 3 else [worker_id, admin_id]
        helpers = rng.sample(volunteers, k=min(2, len(volunteers))) if with_volunteers and volunteers else []
        entry = worklog.record(worklog.Entry(kinds[kind], today - timedelta(days=days_ago), staff, helpers,
                                             places, households, note), str(uuid4()), staff[0], today=today)
        with write_transaction() as s:  # written down on the evening of the day
            s.get(WorkLogEntry, entry.id).created_at = _at(entry.day, 18)


def _chair(day: date, spare: str) -> int:
    """The unit that chairs the alliance in the day's quarter: one is planned if none is."""
    chair = alliance.chair_for(day)
    if chair is not None:
        return chair.id
    with write_transaction() as s:
        unit = s.scalar(select(PartnerUnit).where(PartnerUnit.name == spare))
        unit.chair_quarter = alliance.quarter_of(day)
        return unit.id


def _alliance(admin_id: int, worker_id: int) -> None:
    """Three joint meetings (two held, one next week) with items from the concerns ledger, from
    partner units' suggestions and from the staff, in every status; the items' steps, and the
    concerns' history lines, dated after the meeting."""
    today = lending.hall_today()
    unit = {name: _unit(name) for name, *_rest in PARTNER_UNITS}
    concern = {c.category: c.id for c in db.session.scalars(select(Concern))}
    law, clinic, tibetan, shop, school, bank, pharmacy, homes = (unit[n] for n, *_r in PARTNER_UNITS)
    meetings = [
        (today - timedelta(days=60), "拉萨市第一小学", [law, clinic, tibetan, shop, bank, homes], [
            ("concern", concern["roads_drains"], None, "", ("由社区申请街道办专项资金更换3号楼后下水管道，雪城家政协助清淤。",
                                                          homes, worker_id, 30), ["in_progress", "done"]),
            ("partner", None, law, "每月一次免费法律咨询", ("雪域律师事务所每月举办一次法律咨询上午。", law, None, 20),
             ["in_progress", "done"]),
            ("partner", None, shop, "为行动不便的老人送货上门", ("吉祥百货超市每周二为登记的老人免费送货。", shop, None, 40),
             ["dropped"]),
        ]),
        (today - timedelta(days=35), "雪域律师事务所", [law, clinic, tibetan, school, pharmacy], [
            ("concern", concern["neighbours"], None, "", ("社区调解员和雪域律师事务所一起上门调解，约定装修只在白天进行。",
                                                        law, worker_id, 30), ["in_progress"]),
            ("partner", None, clinic, "为65岁以上老人免费体检", ("社区卫生服务站在党群服务中心举办免费健康体检。", clinic, None, 50),
             []),
            ("staff", None, None, "冬季取暖安全宣传", ("社工和仁康藏医诊所一起开展防一氧化碳中毒宣传。", tibetan, worker_id, 45),
             ["in_progress"]),
        ]),
        (_next_weekday(today + timedelta(days=1), 3), "城关区社区卫生服务站",
         [law, clinic, shop, school, bank, pharmacy, homes], [
            ("concern", concern["public_toilets"], None, "", None, []),
            ("partner", None, school, "周末为双职工家庭托管孩子", None, []),
        ]),
    ]
    spares = iter(["拉萨市第一小学", "邮政储蓄银行城关支行", "爱心大药房"])
    notes = {"in_progress": "已开始落实，下次联席会议汇报进度。", "done": "已完成，居民反映良好。",
             "dropped": "人手不足，各方商定暂缓。"}
    for day, place_unit, present, items in meetings:
        chair = _chair(day, next(spares))
        meeting = alliance.save_meeting(alliance.MeetingFields(day, f"{place_unit}会议室", present, chair,
                                                               "联席会议：通报上次决议落实情况，讨论新议题。"), admin_id)
        for source, concern_id, suggested_by, topic, resolution, steps in items:
            item = alliance.add_item(meeting.id, source, topic, concern_id=concern_id, suggested_by_unit_id=suggested_by)
            if resolution is None:
                continue
            text, owner_unit, owner_staff, due_in = resolution
            alliance.resolve(item.id, alliance.Resolution(text, owner_unit, owner_staff, day + timedelta(days=due_in)),
                             admin_id)
            for status in steps:
                alliance.follow(item.id, notes[status], status, worker_id)
            _date_steps(item.id, day, concern_id)
    # A partner unit takes on a resident's wish: the pharmacy lends the wheelchair (a resource match).
    wheelchair = db.session.scalar(select(Wish.id).where(Wish.category == "health", Wish.status == "published"))
    if wheelchair is not None:
        wishes.confirm_claim(wishes.claim(wheelchair, str(uuid4()), partner_unit_id=pharmacy,
                                          note="药房可以借出轮椅两个月").id, admin_id)


def _date_steps(item_id: int, day: date, concern_id: int | None) -> None:
    """The resolution on the meeting's day, each follow-up a couple of weeks after the last; the
    concern's line about the resolution on the meeting's day too (after its earlier steps)."""
    with write_transaction() as s:
        moment = _at(day, 11)
        steps = list(s.scalars(select(AgendaStep).where(AgendaStep.item_id == item_id).order_by(AgendaStep.id)))
        for n, step in enumerate(steps):
            step.at = moment + timedelta(days=14 * n)
        item = s.get(AgendaItem, item_id)
        if item.closed_at is not None:
            item.closed_at = steps[-1].at
        if concern_id is not None:
            history = list(s.scalars(select(ConcernStep).where(ConcernStep.concern_id == concern_id)
                                     .order_by(ConcernStep.id)))
            if len(history) > 1:
                history[-1].at = max(moment, history[-2].at + timedelta(hours=1))
