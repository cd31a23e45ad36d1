"""The hall tablet's camera reads QR codes: a tool's label opens the tool, a receipt's take-home QR opens
the receipt. Chromium's fake camera plays a .y4m video of the code; with no camera the resident is
told so and types the code instead. The decoder is the vendored ZXing polyfill (Chromium on Linux has
no BarcodeDetector of its own), its .wasm served by the hall."""
from pathlib import Path

import pytest
import qrcode
import qrcode.constants
from PIL import Image
from playwright.sync_api import expect

from kiosk import qr
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, TABLET, require_chromium
from tests.browser.helpers import choose_language, free_tool_of, path_is
from tests.browser.page_checks import assert_fit_for_residents

pytestmark = pytest.mark.browser

WIDTH, HEIGHT = 640, 480
# The decoder (1 MB of WebAssembly) is compiled on the first tap; a busy test machine is slow at it.
FOUND_MS = 30_000
# Records every camera stream the page opens, so that a test can see that it was stopped.
RECORD_STREAMS = """
(() => {
  const media = navigator.mediaDevices;
  window.cameraStreams = [];
  if (!media) { return; }
  const open = media.getUserMedia.bind(media);
  media.getUserMedia = (constraints) => open(constraints).then((stream) => {
    window.cameraStreams.push(stream);
    return stream;
  });
})();
"""
ALL_STOPPED = "window.cameraStreams.every(s => s.getTracks().every(t => t.readyState === 'ended'))"


def fake_camera_video(folder: Path, text: str | None, frames: int = 5) -> Path:
    """A YUV4MPEG2 video (640x480, 4:2:0) of `text` as a QR code on white, or of a white page."""
    picture = Image.new("RGB", (WIDTH, HEIGHT), "white")
    if text is not None:
        code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
        code.add_data(text)
        code.make(fit=True)
        box = min(10, (HEIGHT - 40) // (code.modules_count + 8))
        code.box_size = box
        image = code.make_image(fill_color="black", back_color="white").get_image().convert("RGB")
        picture.paste(image, ((WIDTH - image.width) // 2, (HEIGHT - image.height) // 2))
    y, cb, cr = picture.convert("YCbCr").split()
    cb, cr = (plane.resize((WIDTH // 2, HEIGHT // 2)) for plane in (cb, cr))
    path = folder / "camera.y4m"
    with path.open("wb") as video:
        video.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F10:1 Ip A1:1 C420\n".encode())
        for _ in range(frames):
            video.write(b"FRAME\n" + y.tobytes() + cb.tobytes() + cr.tobytes())
    return path


@pytest.fixture
def chromium(playwright):
    """chromium(*extra_args) -> the system Chromium, headless, with these flags; closed afterwards."""
    require_chromium()
    browsers = []

    def launch(*extra_args):
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=[*CHROMIUM_ARGS, *extra_args])
        browsers.append(browser)
        return browser

    yield launch
    for browser in browsers:
        browser.close()


def with_camera(chromium, video: Path):
    """A Chromium whose camera films `video` and that allows the camera without asking."""
    return chromium("--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                    f"--use-file-for-fake-video-capture={video}")


def hall_tablet(browser, server, host=None):
    """A page on the enrolled hall tablet that keeps count of the camera streams. With `host`, the
    same server under that name (the browser must map it to 127.0.0.1); not enrolled there."""
    url = server.url if host is None else server.url.replace("127.0.0.1", host)
    context = browser.new_context(base_url=url, **TABLET)
    context.set_default_timeout(10_000)
    if host is None:
        server.enrol_tablet(context)
    context.add_init_script(RECORD_STREAMS)
    page = context.new_page()
    requests, errors = [], []
    page.on("request", lambda request: requests.append(request.url))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.requests, page.console_errors = requests, errors
    return page


def scan_button(page):
    return page.get_by_role("button", name="Scan with the camera")


def assert_decoded_by_the_hall(page, server):
    """The decoder came from the hall: the vendored polyfill and its .wasm, nothing from elsewhere."""
    assert all(url.startswith(f"{server.url}/") for url in page.requests), page.requests
    # The page's CSP let it compile the decoder: no eval, no worker, no blob: needed.
    assert not [e for e in page.console_errors if "Content Security Policy" in e], page.console_errors
    if page.evaluate("!('BarcodeDetector' in window)"):  # no native detector: the polyfill read it
        vendored = [url for url in page.requests if "/static/vendor/barcode-detector/" in url]
        assert any(url.endswith(".wasm") for url in vendored), page.requests
        assert any(url.endswith(".js") for url in vendored), page.requests


def test_the_camera_reads_a_tool_label_and_opens_the_tool(serve, chromium, tmp_path, shot):
    server = serve()
    code, _ = free_tool_of(server, "Electric drill")
    label = server.query(lambda: qr.label_url(code))  # what the printed label encodes
    assert label.endswith(f"/t/{code}")
    page = hall_tablet(with_camera(chromium, fake_camera_video(tmp_path, label)), server)

    page.goto("/kiosk/tools/")
    choose_language(page, "en")
    # Nothing of the decoder is loaded until someone taps.
    assert not [url for url in page.requests if "barcode-detector" in url]
    expect(scan_button(page)).to_be_visible()
    shot(page, "shop")

    scan_button(page).click()
    path_is_tool = f"/kiosk/t/{code}"
    expect(page).to_have_url(f"{server.url}{path_is_tool}", timeout=FOUND_MS)
    path_is(page, path_is_tool)
    expect(page.locator("main")).to_contain_text(code)
    expect(page.locator(".camera-view")).to_have_count(0)
    assert page.evaluate("window.cameraStreams.length") == 1
    assert page.evaluate(ALL_STOPPED), "the camera is still on"
    assert_decoded_by_the_hall(page, server)
    shot(page, "tool")


def test_the_camera_reads_a_class_receipt_and_opens_it(serve, chromium, tmp_path, shot):
    from sqlalchemy import select

    from kiosk.extensions import db
    from kiosk.models import Course, Registration

    server = serve()

    def a_registration():
        registration = db.session.scalars(select(Registration).join(Course)
                                          .where(Registration.status == "confirmed")
                                          .order_by(Registration.id)).first()
        course = registration.course
        # The take-home QR the tablet shows on a fresh receipt.
        return course.code, registration.receipt, qr.receipt_url(course.code, registration.receipt)

    course, receipt, take_home = server.query(a_registration)
    page = hall_tablet(with_camera(chromium, fake_camera_video(tmp_path, take_home)), server)

    page.goto(f"/kiosk/c/{course}")
    choose_language(page, "en")
    shot(page, "course")
    scan_button(page).click()
    expect(page).to_have_url(f"{server.url}/kiosk/c/{course}/r/{receipt}", timeout=FOUND_MS)
    expect(page.locator("main")).to_contain_text(f"{receipt[:4]}-{receipt[4:]}")
    assert page.evaluate(ALL_STOPPED), "the camera is still on"
    assert_decoded_by_the_hall(page, server)
    shot(page, "receipt")


def test_cancel_closes_the_camera_and_turns_it_off(serve, chromium, tmp_path, shot):
    server = serve()
    page = hall_tablet(with_camera(chromium, fake_camera_video(tmp_path, None)), server)
    page.goto("/kiosk/tools/")
    choose_language(page, "en")

    scan_button(page).click()
    view = page.get_by_role("dialog")
    expect(view).to_be_visible()
    expect(view).to_contain_text("Hold the QR code in front of the camera")
    cancel = view.get_by_role("button", name="Cancel")
    expect(cancel).to_be_focused()
    # (a function, not a string: the page's CSP forbids evaluating strings)
    page.wait_for_function("() => window.cameraStreams.length === 1 && "
                           "document.querySelector('.camera-video').readyState >= 2")
    box = cancel.bounding_box()
    assert box["height"] >= 64, box
    shot(page, "camera-open")
    assert_fit_for_residents(page)

    cancel.click()
    expect(page.locator(".camera-view")).to_have_count(0)
    assert page.evaluate(ALL_STOPPED), "the camera is still on"
    expect(scan_button(page)).to_be_focused()
    path_is(page, "/kiosk/tools/")

    # Escape closes it too.
    scan_button(page).click()
    expect(page.get_by_role("dialog")).to_be_visible()
    page.wait_for_function("() => window.cameraStreams.length === 2")
    page.keyboard.press("Escape")
    expect(page.locator(".camera-view")).to_have_count(0)
    assert page.evaluate(ALL_STOPPED), "the camera is still on"
    shot(page, "closed")


NO_CAMERA = {
    # A tablet with no camera at all.
    "none": ([], None, "The camera cannot be used on this tablet."),
    # A camera the browser does not let the page use (nobody said yes to the prompt).
    "refused": (["--use-fake-device-for-media-stream"], None, "The camera is not allowed on this tablet."),
    # The hall over plain http:// on a name that is not localhost: browsers give no camera at all.
    "http": (["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
              "--host-resolver-rules=MAP hall.test 127.0.0.1"], "hall.test",
             "The camera cannot be used on this tablet."),
}


@pytest.mark.parametrize("why", NO_CAMERA)
def test_without_a_camera_the_resident_is_told_and_types_the_code(serve, chromium, shot, why):
    args, host, words = NO_CAMERA[why]
    server = serve()
    code, _ = free_tool_of(server, "Electric drill")
    page = hall_tablet(chromium(*args), server, host=host)

    page.goto("/kiosk/tools/")
    choose_language(page, "en")
    assert page.evaluate("window.isSecureContext") is (host is None)
    scan_button(page).click()
    message = page.locator(".camera-message:not([hidden])")
    # Chromium looks for cameras before it answers "none": slow on a busy machine.
    expect(message).to_have_count(1, timeout=20_000)
    expect(message).to_be_visible()
    expect(message).to_have_text(f"{words} Please type the code in the box above, or ask the staff.")
    expect(page.locator(".camera-view")).to_have_count(0)
    # The cursor waits in the code box, for typing or for the USB scanner.
    expect(page.locator("#code")).to_be_focused()
    shot(page, "no-camera")
    assert_fit_for_residents(page)

    page.keyboard.type(code.lower())
    page.keyboard.press("Enter")
    path_is(page, f"/kiosk/t/{code}")
    expect(page.locator("main")).to_contain_text(code)
    shot(page, "typed")


def test_a_phone_has_no_camera_button(serve, phone):
    server = serve()
    page = phone(server)
    page.goto("/tools/")
    expect(page.locator("#code")).to_be_visible()
    expect(page.locator("button[data-scan]")).to_have_count(0)
