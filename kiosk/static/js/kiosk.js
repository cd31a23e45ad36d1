// The hall tablet: forget everything after a while without a touch, "Touch to start" after that,
// a calm "reconnecting" screen while the server cannot be reached, the on-screen number pad, and
// receipts that go home by themselves. No inline script: the CSP allows only files like this.
// No user-visible words here: they are rendered in the templates, in the resident's language.
(function () {
  "use strict";
  var body = document.body;
  var idleSeconds = parseInt(body.dataset.idleSeconds || "75", 10);
  var countdownSeconds = parseInt(body.dataset.countdownSeconds || "25", 10);
  var idleTimer = null, countdownTimer = null, remaining = 0, focusBeforeIdle = null;
  var ATTRACT_FLAG = "hall-kiosk-attract";  // sessionStorage: "the idle reset loaded this page"

  function byId(id) { return document.getElementById(id); }

  // While a full-screen layer is up ("reconnecting", "Touch to start"), what lies beneath takes
  // no taps, keys or focus: no Enter from the barcode scanner sends a form into the void.
  function updateInert() {
    var inert = !!(reconnecting || attractUp);
    document.querySelectorAll("body > header, body > main").forEach(function (el) {
      el.inert = inert;
    });
  }

  // --- Is the server there? ------------------------------------------------------------------
  // The tablet finds out by itself with the cheapest request there is (GET /kiosk/ping: no
  // session, no database), more slowly the longer the server stays away. Nothing that was typed
  // is sent again without a tap: a borrow must not happen twice behind the resident's back.

  var realFetch = window.fetch.bind(window);
  var reconnecting = false, pingTimer = null, pingDelay = 0;
  var onBack = null;  // what waits for the server: the idle reset, a receipt going home
  var FIRST_DELAY = 2000, LONGEST_DELAY = 10000, PING_TIMEOUT = 5000;
  var UNREACHABLE = [502, 503, 504];  // a proxy in front answers these while the server restarts

  function pingUrl() {
    var el = byId("reconnecting");
    return (el && el.dataset.pingUrl) || "/kiosk/ping";
  }

  function ping() {
    // credentials "omit": the answer must not depend on (or touch) the resident's session.
    // A ping that hangs counts as no answer, so that "reconnecting" keeps asking.
    var abort = window.AbortController ? new AbortController() : null;
    var timer = abort ? setTimeout(function () { abort.abort(); }, PING_TIMEOUT) : null;
    return realFetch(pingUrl(), { cache: "no-store", credentials: "omit", signal: abort && abort.signal })
      .then(function (response) { return response.ok; }, function () { return false; })
      .then(function (ok) { clearTimeout(timer); return ok; });
  }

  function showReconnecting() {
    var el = byId("reconnecting");
    if (el) { el.hidden = false; }
    var already = reconnecting;
    reconnecting = true;
    updateInert();
    if (already) { return; }
    pingDelay = FIRST_DELAY;
    pingTimer = setTimeout(checkAgain, pingDelay);
  }

  function checkAgain() {
    pingTimer = null;
    ping().then(function (ok) {
      if (ok) { backAgain(); return; }
      pingDelay = Math.min(Math.round(pingDelay * 1.5), LONGEST_DELAY);
      pingTimer = setTimeout(checkAgain, pingDelay);
    });
  }

  function backAgain() {
    if (!reconnecting) { return; }
    reconnecting = false;
    clearTimeout(pingTimer);
    pingTimer = null;
    if (onBack) {  // it leaves this page: "reconnecting" stays up until the next one loads
      var then = onBack;
      onBack = null;
      then();
      return;
    }
    var el = byId("reconnecting");
    if (el) { el.hidden = true; }
    updateInert();
    // The note of what did not go through takes the focus, so that it is read out and its
    // "Send again" is one key away.
    var note = document.querySelector(".not-sent");
    if (note) { (note.querySelector("[data-send-again]") || note).focus(); }
  }

  // The network came back (Wi-Fi rejoined): ask now rather than at the next backoff step.
  window.addEventListener("online", function () {
    if (reconnecting) { clearTimeout(pingTimer); checkAgain(); }
  });

  // A fetch by any script on the tablet (the camera scanner's files, say) that finds no server.
  window.fetch = function () {
    return realFetch.apply(window, arguments).then(function (response) {
      if (UNREACHABLE.indexOf(response.status) >= 0) { showReconnecting(); }
      return response;
    }, function (error) {
      if (!error || error.name !== "AbortError") { showReconnecting(); }
      throw error;
    });
  };

  // --- What did not go through -----------------------------------------------------------------

  var submitters = new WeakMap();  // form -> the button that sent it last
  document.addEventListener("submit", function (event) {
    if (event.submitter) { submitters.set(event.target, event.submitter); }
  }, true);

  function removeNotes(scope) {
    (scope || document).querySelectorAll(".not-sent").forEach(function (n) { n.remove(); });
  }

  function noteFrom(templateId) {
    var template = byId(templateId);
    return template ? template.content.firstElementChild.cloneNode(true) : null;
  }

  // The form stays as the resident left it (htmx swaps nothing on a failed request); above it,
  // in words, that it was not sent, and a button that sends it again, exactly like its own.
  function markNotSent(form) {
    removeNotes();
    var note = noteFrom("not-sent-note");
    if (!note) { return; }
    var again = note.querySelector("[data-send-again]");
    if (again) {
      again.addEventListener("click", function () {
        var submitter = submitters.get(form);
        note.remove();
        if (submitter && submitter.isConnected && form.contains(submitter)) { submitter.click(); }
        else { form.requestSubmit(); }
      });
    }
    form.insertAdjacentElement("beforebegin", note);
  }

  // A link that did not open: the page stays; after the server is back, the resident taps again.
  function markNotOpened() {
    removeNotes();
    var note = noteFrom("not-opened-note");
    var main = byId("main");
    if (note && main) { main.insertAdjacentElement("afterbegin", note); }
  }

  function didNotGoThrough(elt) {
    var form = elt && (elt.tagName === "FORM" ? elt : elt.closest && elt.closest("form"));
    if (form) { markNotSent(form); }
    else if (elt && elt.closest && elt.closest("a[href]")) { markNotOpened(); }
    // Anything else (the catalogue refreshing itself) just tries again on its own schedule.
    showReconnecting();
  }

  document.addEventListener("htmx:sendError", function (event) { didNotGoThrough(event.detail.elt); });
  // A connection that hangs (the server lost power mid-answer) ends at htmx's timeout, set in
  // base.html: the resident is told, rather than left before a greyed-out button.
  document.addEventListener("htmx:timeout", function (event) { didNotGoThrough(event.detail.elt); });
  document.addEventListener("htmx:beforeSwap", function (event) {
    // The proxy's "Bad gateway" page is not swapped in over the resident's form.
    var xhr = event.detail.xhr;
    if (xhr && UNREACHABLE.indexOf(xhr.status) >= 0) {
      event.detail.shouldSwap = false;
      event.detail.isError = false;
      didNotGoThrough(event.detail.requestConfig && event.detail.requestConfig.elt);
    }
  });
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    var form = elt && (elt.tagName === "FORM" ? elt : elt.closest && elt.closest("form"));
    if (form && form.previousElementSibling && form.previousElementSibling.classList.contains("not-sent")) {
      form.previousElementSibling.remove();
    }
  });

  // Forms that load a whole page (the language switch, "Start over now", the teacher's log-out)
  // would leave the tablet on the browser's own error page if the server were away: ask first.
  var checkedForms = new WeakSet();
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || form.getAttribute("hx-boost") !== "false") { return; }
    if (checkedForms.has(form)) { checkedForms.delete(form); return; }
    event.preventDefault();
    var submitter = event.submitter;
    ping().then(function (ok) {
      if (!ok) { markNotOpened(); showReconnecting(); return; }
      checkedForms.add(form);
      if (submitter && submitter.isConnected) { form.requestSubmit(submitter); } else { form.requestSubmit(); }
    });
  });

  // The same for links that load a whole page (the tea table's sign-in QR).
  document.addEventListener("click", function (event) {
    var link = event.target && event.target.closest && event.target.closest("a[href][hx-boost='false']");
    if (!link || event.defaultPrevented || event.button !== 0 || event.ctrlKey || event.metaKey ||
        event.shiftKey || event.altKey || link.target || link.origin !== window.location.origin) { return; }
    event.preventDefault();
    ping().then(function (ok) {
      if (ok) { window.location.assign(link.href); return; }
      markNotOpened();
      showReconnecting();
    });
  });

  // A page load the tablet starts by itself (a receipt going home) waits for the server too.
  function goSafely(url) {
    ping().then(function (ok) {
      if (ok) { window.location.replace(url); return; }
      onBack = function () { goSafely(url); };
      showReconnecting();
    });
  }

  // --- "Still there?" and the idle reset -----------------------------------------------------

  function overlay() { return byId("idle-overlay"); }

  function startOver() {
    // A real form post (not htmx): the server clears the session and the home page loads in full.
    // Only once the server answers: a post into the void would strand the tablet on the
    // browser's error page, with the last resident's form still behind it.
    ping().then(function (ok) {
      if (!ok) {
        // The countdown ran out while the server was away: the reset happens once it is back,
        // whoever touches the screen meanwhile.
        onBack = startOver;
        var el = overlay();
        if (el) { el.hidden = true; }
        showReconnecting();
        return;
      }
      try { sessionStorage.setItem(ATTRACT_FLAG, String(Date.now())); } catch (e) { /* private mode */ }
      var form = byId("idle-reset");
      if (form) { form.submit(); } else { window.location.replace("/kiosk/"); }
    });
  }

  function tick() {
    remaining -= 1;
    var count = byId("idle-count");
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
    byId("idle-count").textContent = String(remaining);
    focusBeforeIdle = document.activeElement;
    el.hidden = false;
    byId("idle-stay").focus();
    countdownTimer = setInterval(tick, 1000);
  }

  function stillHere() {
    var wasCounting = !!countdownTimer;
    if (countdownTimer) { clearInterval(countdownTimer); countdownTimer = null; }
    var el = overlay();
    if (el) { el.hidden = true; }
    clearTimeout(idleTimer);
    idleTimer = null;
    if (attractUp) { return; }  // nobody is there: no countdown until someone touches the screen
    if (wasCounting && focusBeforeIdle && focusBeforeIdle.isConnected && focusBeforeIdle !== body) {
      focusBeforeIdle.focus();  // back to where the resident was, for keyboard users
    }
    focusBeforeIdle = null;
    idleTimer = setTimeout(showOverlay, idleSeconds * 1000);
  }

  ["pointerdown", "touchstart", "input"].forEach(function (type) {
    document.addEventListener(type, function (event) {
      // A touch while the countdown runs only counts through the "I am still here" button,
      // so that a stray tap on the dark background does not hide the question.
      if (countdownTimer && !(event.target && event.target.id === "idle-stay")) { return; }
      if (!attractUp) { stillHere(); }
    }, { capture: true, passive: true });
  });
  // Any key, though, means someone is there: one key press answers "I am still here". That key
  // does nothing else (an Enter must not send the form beneath), and the focus goes back.
  document.addEventListener("keydown", function (event) {
    if (attractUp) { return; }
    if (countdownTimer) {
      event.preventDefault();
      event.stopPropagation();
    }
    stillHere();
  }, true);
  document.addEventListener("click", function (event) {
    if (event.target && event.target.id === "idle-stay") { stillHere(); }
  });

  // --- "Touch to start" ----------------------------------------------------------------------
  // Shown only when the idle reset loaded this page (a flag it leaves in sessionStorage just
  // before it posts), never when someone opened the home screen: they are standing right there.
  // While it is up nothing is armed: an untouched tablet makes no request at all.

  var attractUp = false;

  function cameFromReset() {
    var when = null;
    try {
      when = sessionStorage.getItem(ATTRACT_FLAG);
      sessionStorage.removeItem(ATTRACT_FLAG);
    } catch (e) { return false; }
    // A flag from long ago (a reset whose page never loaded) does not count.
    return when !== null && Date.now() - parseInt(when, 10) < 60000;
  }

  function showAttract() {
    var attract = byId("attract");
    if (!attract) { return; }
    attractUp = true;
    attract.hidden = false;
    updateInert();
    attract.focus();
  }

  function hideAttract(event) {
    if (!attractUp) { return; }
    event.preventDefault();  // the key or touch that wakes the screen does nothing else
    event.stopPropagation();
    attractUp = false;
    var attract = byId("attract");
    if (attract) { attract.hidden = true; }
    updateInert();
    // A key: the first tile is one Enter away. A touch: the page, with no focus ring on a tile.
    var first = event.type === "keydown" && document.querySelector("main .tiles a");
    var target = first || byId("main");
    if (target) { target.focus({ preventScroll: true }); }
    stillHere();  // someone is here now: the idle countdown starts
  }

  // The touch ends on the big button (click), so it never lands on a tile beneath it.
  document.addEventListener("click", function (event) {
    if (attractUp && event.target && event.target.closest && event.target.closest("#attract")) {
      hideAttract(event);
    }
  }, true);
  document.addEventListener("keydown", function (event) {
    if (attractUp) { hideAttract(event); }
  }, true);

  // --- The number pad ------------------------------------------------------------------------

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
        // The words for the two symbol keys come from the page, in the resident's language.
        b.setAttribute("aria-label", key === "⌫" ? body.dataset.keypadDelete : key === "✕" ? body.dataset.keypadClear : key);
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
      homeTimer = setTimeout(function () { goSafely(receipt.dataset.homeUrl); },
        parseInt(receipt.dataset.homeAfter, 10) * 1000);
    }
  }

  function init(root) { buildKeypads(root); armReceipt(document); }
  init(document);
  if (cameFromReset()) { showAttract(); }
  stillHere();
  document.addEventListener("htmx:afterSettle", function () {
    init(document);
    // A swap brings a fresh copy of the layout: keep showing "reconnecting" if it is still true.
    if (reconnecting) { showReconnecting(); }
    // No stillHere() here: a swap is not a touch. The tool list refreshes itself every 20 s, and
    // restarting the idle time on each refresh meant the tool shop never reset.
  });
})();
