"""The hall's records, one module per domain."""
from .admin import AuditEntry, Setting
from .community import (Activity, ActivitySeat, AgendaItem, AgendaStep, JointMeeting, ResourceMatch, SignUp,
                        WorkKind, WorkLogEntry)
from .classes import Attendance, ClassSession, Course, CourseSchedule, CourseSeat, Registration
from .people import KioskDevice, LoginAttempt, Resident, StaffUser
from .tools import Loan, Tool, ToolEvent, ToolKind
from .tea import Concern, ConcernStep, TeaInvitation, TeaSession, TeaSignIn
from .wishes import Claim, Fulfilment, PartnerUnit, Volunteer, Wish

__all__ = ["AuditEntry", "Setting", "Activity", "ActivitySeat", "AgendaItem", "AgendaStep", "JointMeeting",
           "ResourceMatch", "SignUp", "WorkKind", "WorkLogEntry", "Attendance", "ClassSession", "Course", "CourseSchedule", "CourseSeat", "Registration",
           "KioskDevice", "LoginAttempt", "Resident", "StaffUser", "Loan", "Tool", "ToolEvent", "ToolKind",
           "Claim", "Concern", "ConcernStep", "Fulfilment", "PartnerUnit", "TeaInvitation", "TeaSession",
           "TeaSignIn", "Volunteer", "Wish"]
