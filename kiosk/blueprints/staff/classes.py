"""Back office: courses, their dates, registrations, the waiting list, attendance, exports."""
