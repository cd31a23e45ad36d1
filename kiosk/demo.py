"""A believable demo hall: 15 kinds of tool, 40 tools, a dozen residents, some loans (one overdue),
one tool in repair. Loaded by `make run` when the database has no tools."""
from datetime import timedelta
from uuid import uuid4

from sqlalchemy import select

from . import lending
from .database import write_transaction
from .extensions import db
from .models import Loan, Resident, StaffUser, Tool, ToolKind
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


def load_demo():
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

