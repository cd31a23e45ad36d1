"""A believable demo hall: 15 kinds of tool, 40 tools, a dozen residents, some loans (one overdue),
one tool in repair; the Saturday English class with this term's dates, 18 children and some
attendance. Loaded by `make run` when the database has no tools."""
import random
import secrets
from datetime import date, datetime, time, timedelta
from uuid import uuid4

from sqlalchemy import select, update

from . import classes, ledger, lending, tea, wishes
from .auth import create_staff
from .database import write_transaction
from .extensions import db
from .models import Concern, ConcernStep, Loan, Registration, Resident, StaffUser, Tool, ToolKind, Wish
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
    ("permits_paperwork", "外地来的女婿怎么办居住证？", "", "answered",
     "社区民警现场讲解了居住证办理流程和材料。", ""),
    ("public_toilets", "东门公共厕所太旧，冬天水管冻裂。", "东门", "referred", "报请城管局维修改造", "城管局"),
    ("benefits", "高龄津贴这个月没有到账。", "", "informed", "核对名单后补发", "街道办事处"),
    ("employment", "孩子毕业一年还没找到工作，希望有培训机会。", "", "resolved", "推荐参加人社局职业技能培训", "人社局"),
    ("neighbours", "楼上邻居晚上装修太吵。", "5号楼", "open", "社区调解员上门协调", "社区居委会"),
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
