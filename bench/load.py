"""The load, run as its own process: N threads, each a keep-alive http.client connection that
reconnects when the server closes it (gunicorn's sync workers close after every response), asking
for one path over and over for a fixed time. Prints JSON: requests, errors, latencies (ms).

A write mix (`--mix borrow-return`): each thread is a resident with their own phone cookie and
their own tools; it borrows and returns them in turn through the real forms (CSRF and one-use
tokens read from each form). Only the two POSTs are timed. `--pause S` waits S seconds after each
POST (a trickle of changes beside a page's load rather than a flood), `--first-resident N`
numbers the residents from N (so that a trickle and the mix are never the same resident).

    python -m bench.load http://127.0.0.1:8000 /kiosk/ --seconds 10 --concurrency 16 [--cookie 'session=...']
"""
import argparse
import http.client
import json
import re
import threading
import time
from urllib.parse import urlencode, urlsplit

INPUT = re.compile(r'<input[^>]*?name="(?P<name>[^"]+)"[^>]*?>', re.DOTALL)
VALUE = re.compile(r'value="([^"]*)"')


def form_values(html: str) -> dict:
    values = {}
    for match in INPUT.finditer(html):
        value = VALUE.search(match.group(0))
        values.setdefault(match.group("name"), value.group(1) if value else "")
    return values


class Client:
    def __init__(self, base: str, cookie: str = ""):
        parts = urlsplit(base)
        self.host, self.port = parts.hostname, parts.port
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        self.cookies = dict(c.split("=", 1) for c in cookie.split("; ") if "=" in c)

    def request(self, method: str, path: str, form: dict | None = None):
        headers = {"Accept-Encoding": "identity"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                if attempt == 2:
                    raise
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        if response.will_close:
            self.conn.close()
        return response.status, data


def timed(client, method, path, form, latencies) -> bool:
    """One request, its time added to `latencies`; True when it was answered 200."""
    start = time.perf_counter()
    try:
        status, _ = client.request(method, path, form)
    except OSError:
        status = None
    latencies.append((time.perf_counter() - start) * 1000)
    return status == 200


def read_loop(base, path, cookie, until, out):
    client = Client(base, cookie)
    latencies, errors = [], 0
    while time.perf_counter() < until:
        errors += not timed(client, "GET", path, None, latencies)
    out.append((latencies, errors))


def write_loop(base, index, codes, until, out, pause=0.0):
    """One resident borrowing and returning their own tools (so threads never race for one); a pair
    once begun is finished, so that no tool is left out when the time is up."""
    client = Client(base)
    latencies, errors, first = [], 0, codes[0]
    _, html = client.request("GET", f"/t/{first}/borrow")
    values = form_values(html.decode())
    status, _ = client.request("POST", f"/t/{first}/who", {
        "csrf_token": values.get("csrf_token", ""), "mobile": f"137{index:08d}",
        "name": f"Bench {index}", "building_unit": "", "consent": "y"})
    if status not in (200, 303):
        out.append(([], 1))
        return
    turn = 0
    while time.perf_counter() < until:
        code = codes[turn % len(codes)]
        turn += 1
        for step, fields in (("borrow", {}), ("return", {"condition": "fine", "note": ""})):
            status, html = client.request("GET", f"/t/{code}/{step}")
            values = form_values(html.decode())
            form = {"csrf_token": values.get("csrf_token", ""), "token": values.get("token", ""), **fields}
            errors += not timed(client, "POST", f"/t/{code}/{step}", form, latencies)
            time.sleep(pause)
    out.append((latencies, errors))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("base")
    parser.add_argument("path")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--cookie", default="")
    parser.add_argument("--mix", default="")
    parser.add_argument("--codes", default="", help="borrow-return: comma-separated tool codes, shared out")
    parser.add_argument("--pause", type=float, default=0.0, help="borrow-return: seconds after each POST")
    parser.add_argument("--first-resident", type=int, default=0, help="borrow-return: the first resident's number")
    args = parser.parse_args()
    out = []
    until = time.perf_counter() + args.seconds
    if args.mix == "borrow-return":
        codes = args.codes.split(",")
        threads = [threading.Thread(target=write_loop, args=(args.base, args.first_resident + i,
                                                             codes[i::args.concurrency], until, out, args.pause))
                   for i in range(args.concurrency)]
    else:
        threads = [threading.Thread(target=read_loop, args=(args.base, args.path, args.cookie, until, out))
                   for _ in range(args.concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    latencies = sorted(x for lat, _ in out for x in lat)
    print(json.dumps({"requests": len(latencies), "errors": sum(e for _, e in out), "seconds": elapsed,
                      "latencies_ms": [round(x, 3) for x in latencies]}))


if __name__ == "__main__":
    main()
