// The hall tablet: forget everything after a while without a touch, the on-screen number pad,
// and receipts that go home by themselves. No inline script: the CSP allows only files like this.
(function () {
  "use strict";
  var body = document.body;
  var idleSeconds = parseInt(body.dataset.idleSeconds || "75", 10);
  var countdownSeconds = parseInt(body.dataset.countdownSeconds || "25", 10);
  var idleTimer = null, countdownTimer = null, remaining = 0;

  function overlay() { return document.getElementById("idle-overlay"); }

  function startOver() {
    // A real form post (not htmx): the server clears the session and the home page loads in full.
    var form = document.getElementById("idle-reset");
    if (form) { form.submit(); } else { window.location.replace("/kiosk/"); }
  }

  function tick() {
    remaining -= 1;
    var count = document.getElementById("idle-count");
    if (count) { count.textContent = String(Math.max(remaining, 0)); }
    if (remaining <= 0) { clearInterval(countdownTimer); countdownTimer = null; startOver(); }
  }

  function showOverlay() {
    var el = overlay();
    if (!el) { return; }
    // A screen that holds nothing personal and must stay up (the tea's sign-in QR, whose code
    // changes by itself) is not reset; looked up now, since htmx may have swapped the page.
    if (document.querySelector("[data-idle-off]")) { stillHere(); return; }
    remaining = countdownSeconds;
    document.getElementById("idle-count").textContent = String(remaining);
    el.hidden = false;
    document.getElementById("idle-stay").focus();
    countdownTimer = setInterval(tick, 1000);
  }

  function stillHere() {
    if (countdownTimer) { clearInterval(countdownTimer); countdownTimer = null; }
    var el = overlay();
    if (el) { el.hidden = true; }
    clearTimeout(idleTimer);
    idleTimer = setTimeout(showOverlay, idleSeconds * 1000);
  }

  ["pointerdown", "keydown", "touchstart", "input"].forEach(function (type) {
    document.addEventListener(type, function (event) {
      // A touch while the countdown runs only counts through the "I am still here" button,
      // so that a stray tap on the dark background does not hide the question.
      if (countdownTimer && !(event.target && event.target.id === "idle-stay")) { return; }
      stillHere();
    }, { capture: true, passive: true });
  });
  document.addEventListener("click", function (event) {
    if (event.target && event.target.id === "idle-stay") { stillHere(); }
  });

  // The number pad for fields marked data-keypad: big keys, never the full keyboard.
  function buildKeypads(root) {
    root.querySelectorAll("input[data-keypad]").forEach(function (input) {
      if (input.dataset.keypadBuilt) { return; }
      input.dataset.keypadBuilt = "1";
      var pad = document.createElement("div");
      pad.className = "keypad";
      pad.setAttribute("role", "group");
      pad.setAttribute("aria-label", input.labels && input.labels[0] ? input.labels[0].textContent : "");
      ["1", "2", "3", "4", "5", "6", "7", "8", "9", "⌫", "0", "✕"].forEach(function (key) {
        var b = document.createElement("button");
        b.type = "button";
        b.textContent = key;
        b.dataset.key = key;
        b.setAttribute("aria-label", key === "⌫" ? "delete" : key === "✕" ? "clear" : key);
        b.addEventListener("click", function () {
          if (key === "⌫") { input.value = input.value.slice(0, -1); }
          else if (key === "✕") { input.value = ""; }
          else if (input.value.replace(/\D/g, "").length < 11) { input.value += key; }
          input.dispatchEvent(new Event("input", { bubbles: true }));
        });
        pad.appendChild(b);
      });
      input.insertAdjacentElement("afterend", pad);
    });
  }

  // A receipt returns to the home screen by itself.
  var homeTimer = null;
  function armReceipt(root) {
    clearTimeout(homeTimer);
    var receipt = root.querySelector("[data-home-after]");
    if (receipt) {
      homeTimer = setTimeout(function () { window.location.replace(receipt.dataset.homeUrl); },
        parseInt(receipt.dataset.homeAfter, 10) * 1000);
    }
  }

  function init(root) { buildKeypads(root); armReceipt(document); }
  init(document);
  stillHere();
  document.addEventListener("htmx:afterSettle", function () { init(document); stillHere(); });
})();
