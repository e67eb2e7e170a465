/* The day list refreshes itself: every 3 seconds it fetches the rows of the same filters and
   replaces the tabs (with their counts), the table's rows and the "updated" time. Polling, not
   a long-lived connection: a web worker thread is never held by a browser. It pauses while the
   tab is hidden and catches up at once when it is shown again. Keyboard focus stays on the
   same control (by its data-focus key) across a refresh. ES2017, no library. */
(function () {
  "use strict";

  const INTERVAL_MS = 3000;
  const PARTS = ["day-tabs", "day-rows", "day-updated"];
  const table = document.getElementById("day-table");
  if (!table || !window.fetch || !window.DOMParser) {
    return;
  }
  const url = table.getAttribute("data-rows-url");
  let timer = null;
  let busy = false;

  function focusKey() {
    const active = document.activeElement;
    return active && active.getAttribute ? active.getAttribute("data-focus") : null;
  }

  function replaceParts(html) {
    const fresh = new DOMParser().parseFromString(html, "text/html");
    const key = focusKey();
    PARTS.forEach(function (id) {
      const old = document.getElementById(id);
      const next = fresh.getElementById(id);
      if (old && next) {
        old.parentNode.replaceChild(document.importNode(next, true), old);
      }
    });
    if (key) {
      const again = document.querySelector('[data-focus="' + key + '"]');
      if (again) {
        again.focus();
      }
    }
  }

  async function refresh() {
    if (busy || document.hidden) {
      return;
    }
    busy = true;
    try {
      const response = await fetch(url, {
        credentials: "same-origin",
        // Marked as a poll: it keeps the list fresh, not the session alive.
        headers: { "Accept": "text/html", "X-ORS-Poll": "1" },
        cache: "no-store",
        redirect: "error"
      });
      if (response.ok) {
        replaceParts(await response.text());
      }
    } catch (ignored) {
      /* Offline or signed out: the next round tries again; the page keeps its last rows. */
    } finally {
      busy = false;
    }
  }

  function start() {
    if (timer === null) {
      timer = window.setInterval(refresh, INTERVAL_MS);
    }
  }

  function stop() {
    if (timer !== null) {
      window.clearInterval(timer);
      timer = null;
    }
  }

  document.addEventListener("visibilitychange", function () {
    if (document.hidden) {
      stop();
    } else {
      refresh();
      start();
    }
  });
  start();
}());
