"""The afternoon tea at the table and the concerns residents follow: the hall tablet's sign-in
(a QR for phones, tap your name, walk-ins), the phone's /s/<token>, and /q/<code>. Registered on
phones at / and on the tablet at /kiosk."""
