// The supervisor's live view: asks /dialer/live.json every second and swaps in the three
// parts the server rendered (operators, campaigns, chart); between answers, the time each
// operator has been in their state ticks on here.  Without scripts the page shows the figures
// of its own loading.  Loaded as a file (the Content-Security-Policy allows no inline script).
"use strict";

(function () {
  const root = document.getElementById("live");
  if (!root || !window.fetch) { return; }
  const source = root.dataset.src;
  const every = Number(root.dataset.pollMs) || 1000;
  const status = document.getElementById("live-status");
  const parts = { operators: "live-operators", campaigns: "live-campaigns", chart: "live-chart" };
  let receivedAt = Date.now();

  function duration(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    const pad = function (n) { return (n < 10 ? "0" : "") + n; };
    if (s >= 3600) { return Math.floor(s / 3600) + ":" + pad(Math.floor((s % 3600) / 60)) + ":" + pad(s % 60); }
    return Math.floor(s / 60) + ":" + pad(s % 60);
  }

  function tick() {
    const elapsed = (Date.now() - receivedAt) / 1000;
    root.querySelectorAll("[data-seconds]").forEach(function (cell) {
      cell.textContent = duration(Number(cell.dataset.seconds) + elapsed);
    });
  }

  function poll() {
    fetch(source, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (answer) {
        if (answer.status === 401 || answer.status === 403) { window.location.reload(); throw new Error("signed out"); }
        if (!answer.ok) { throw new Error("HTTP " + answer.status); }
        return answer.json();
      })
      .then(function (data) {
        Object.keys(parts).forEach(function (name) {
          const holder = document.getElementById(parts[name]);
          // Server-rendered with autoescaping, like the page itself.
          if (holder && data.html && typeof data.html[name] === "string") { holder.innerHTML = data.html[name]; }
        });
        receivedAt = Date.now();
        root.dataset.updatedAt = data.at;
        if (status) { status.textContent = ""; }
        tick();
        setTimeout(poll, every);
      })
      .catch(function (error) {
        if (error && error.message === "signed out") { return; }
        if (status) { status.textContent = status.dataset.stale; }
        setTimeout(poll, every * 3);
      });
  }

  setInterval(tick, 1000);
  setTimeout(poll, every);
})();
