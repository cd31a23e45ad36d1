"""Micro-wishes and help requests: the resident's form and status page, the wish wall, claiming,
and a volunteer's own page. Registered on phones at / and on the tablet at /kiosk."""
