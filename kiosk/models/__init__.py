"""The hall's records, one module per domain."""
from .people import KioskDevice, LoginAttempt, Resident, StaffUser
from .tools import Loan, Tool, ToolEvent, ToolKind

__all__ = ["KioskDevice", "LoginAttempt", "Resident", "StaffUser", "Loan", "Tool", "ToolEvent", "ToolKind"]
