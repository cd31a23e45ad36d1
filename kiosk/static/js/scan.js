// "Scan with the camera" on the hall tablet (the button and its words: kiosk/templates/kiosk/_scan.html).
// The camera reads a QR code, a tool's label or a receipt's take-home code, and what it read goes
// through the same look-up form a USB scanner types into, so the server sees the same thing either way.
// The browser's own BarcodeDetector is used where it has one; otherwise the vendored ZXing decoder
// (1 MB) is loaded, only when someone taps, so that the home screen stays small.
(function () {
  "use strict";
  var current = null;   // the scan on screen: {button, box, view, video, stream, detector, timer, done}
  var detector = null;  // a promise of one BarcodeDetector for this page load
  var EVERY_MS = 200;   // about five looks a second: quick enough for a hand, light on an old tablet

  function nativeDetector() {
    var Native = window.BarcodeDetector;
    if (!Native || !Native.getSupportedFormats) { return Promise.resolve(null); }
    return Native.getSupportedFormats().then(function (formats) {
      return formats.indexOf("qr_code") >= 0 ? new Native({ formats: ["qr_code"] }) : null;
    }, function () { return null; });
  }

  function loadScript(src) {
    if (window.BarcodeDetectionAPI) { return Promise.resolve(); }
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = src;
      script.onload = resolve;
      script.onerror = reject;
      document.head.appendChild(script);
    });
  }

  function polyfillDetector(button) {
    var wasm = button.dataset.wasm;
    return loadScript(button.dataset.polyfill).then(function () {
      var api = window.BarcodeDetectionAPI;
      // zxing-wasm fetches its .wasm from a CDN unless told otherwise; the hall serves it itself.
      // fireImmediately: compile it now, so that a failure shows as "cannot be used", not as
      // a camera that never finds anything.
      return Promise.resolve(api.prepareZXingModule({
        overrides: { locateFile: function (path, prefix) { return /\.wasm$/.test(path) ? wasm : prefix + path; } },
        fireImmediately: true
      })).then(function () { return new api.BarcodeDetector({ formats: ["qr_code"] }); });
    });
  }

  function getDetector(button) {
    if (!detector) {
      detector = nativeDetector().then(function (own) { return own || polyfillDetector(button); });
      // A failed load (the server was unreachable a moment) is tried again on the next tap.
      detector.catch(function () { detector = null; });
    }
    return detector;
  }

  function stopTracks(stream) {
    stream.getTracks().forEach(function (track) { track.stop(); });
  }

  function messages(box) { return box.querySelectorAll("[data-scan-message]"); }

  function fail(scan, which) {
    close(scan);
    var box = scan.box;
    if (!box.isConnected) { return; }
    messages(box).forEach(function (p) { p.hidden = p.dataset.scanMessage !== which; });
    // The typed (or USB scanner) path is right there: put the cursor in the box.
    var input = document.querySelector(scan.button.dataset.scan);
    if (input) { input.focus(); }
  }

  function close(scan) {
    scan.done = true;
    clearTimeout(scan.timer);
    if (scan.stream) { stopTracks(scan.stream); }
    scan.video.srcObject = null;
    if (scan.view.parentNode) { scan.view.parentNode.removeChild(scan.view); }
    if (current === scan) { current = null; }
  }

  function found(scan, text) {
    close(scan);
    var input = document.querySelector(scan.button.dataset.scan);
    if (!input || !input.form) { return; }
    input.value = text;
    // requestSubmit: htmx (hx-boost) sees the submit event, as when a resident taps the button.
    if (input.form.requestSubmit) { input.form.requestSubmit(); } else { input.form.submit(); }
  }

  function look(scan) {
    if (scan.done) { return; }
    var again = function () { if (!scan.done) { scan.timer = setTimeout(function () { look(scan); }, EVERY_MS); } };
    if (scan.video.readyState < 2) { again(); return; }  // no picture yet
    scan.detector.detect(scan.video).then(function (codes) {
      if (scan.done) { return; }
      if (codes.length && codes[0].rawValue) { found(scan, codes[0].rawValue); } else { again(); }
    }, function (error) {
      if (scan.done) { return; }
      if (error && error.name === "NotSupportedError") { fail(scan, "unavailable"); } else { again(); }
    });
  }

  function open(button) {
    if (current) { return; }
    var box = button.closest(".camera-scan");
    messages(box).forEach(function (p) { p.hidden = true; });
    var view = box.querySelector("template[data-scan-view]").content.firstElementChild.cloneNode(true);
    var scan = current = { button: button, box: box, view: view, video: view.querySelector("video"),
                           stream: null, detector: null, timer: null, done: false };
    var media = navigator.mediaDevices;
    if (!window.isSecureContext || !media || !media.getUserMedia) {
      // Browsers give the camera only to https:// pages (and http://localhost): see docs/TABLET.md.
      fail(scan, "unavailable");
      return;
    }
    document.body.appendChild(view);
    view.querySelector("[data-scan-cancel]").focus();
    var camera = media.getUserMedia({ video: { facingMode: button.dataset.facing || "user" }, audio: false })
      .then(function (stream) {
        if (scan.done) { stopTracks(stream); return; }
        scan.stream = stream;
        scan.video.srcObject = stream;
        return scan.video.play();
      });
    var reader = getDetector(button).then(function (d) { scan.detector = d; });
    Promise.all([camera, reader]).then(function () { look(scan); }, function (error) {
      if (scan.done) { return; }
      var name = error && error.name;
      fail(scan, name === "NotAllowedError" || name === "SecurityError" ? "refused" : "unavailable");
    });
  }

  function cancel() {
    if (!current) { return; }
    var button = current.button;
    close(current);
    if (button.isConnected) { button.focus(); }
  }

  // Delegated, so that buttons arriving with an htmx swap work too.
  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) { return; }
    var button = target.closest("button[data-scan]");
    if (button) { event.preventDefault(); open(button); return; }
    if (current && target.closest("[data-scan-cancel]")) { cancel(); }
  });
  document.addEventListener("keydown", function (event) {
    if (!current) { return; }
    if (event.key === "Escape") { cancel(); return; }
    // Keep the keyboard inside the camera view (its one button), unless "Still there?" is asking.
    var idle = document.getElementById("idle-overlay");
    if (event.key === "Tab" && (!idle || idle.hidden)) {
      event.preventDefault();
      current.view.querySelector("[data-scan-cancel]").focus();
    }
  });

  // The camera goes off whenever the view goes: an htmx page change, the back button, the idle
  // reset's page load, the screen turning off.
  function stop() { if (current) { close(current); } }
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (current && target && target.contains(current.view)) { stop(); }
  });
  document.addEventListener("htmx:beforeHistorySave", stop);
  window.addEventListener("popstate", stop);
  window.addEventListener("pagehide", stop);
  document.addEventListener("visibilitychange", function () { if (document.hidden) { stop(); } });
})();
