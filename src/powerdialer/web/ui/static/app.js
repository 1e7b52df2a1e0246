// powerdialer web UI: light progressive enhancement. Every page works without this file
// (links and forms do the same job); with it, dialogs open in place, menus close on their
// own, ids copy with one click and uploads show a preview and a progress bar.
// Loaded as a file (the Content-Security-Policy allows no inline script).
"use strict";

(function () {
  document.documentElement.classList.add("js");

  function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  // Dates are shown in the browser's time zone: tell the server which one it is.
  try {
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && !document.cookie.split("; ").includes("pd_tz=" + encodeURIComponent(zone))) {
      document.cookie = "pd_tz=" + encodeURIComponent(zone) + "; path=/; max-age=31536000; samesite=lax";
    }
  } catch (e) { /* an old browser: dates stay in UTC */ }

  // A select that submits its form on change (the project switcher, the example campaign).
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.requestSubmit ? select.form.requestSubmit() : select.form.submit(); });
  });

  // Dialogs: links with data-open-dialog open the <dialog> in place of loading ?dialog=…
  function openDialog(dialog) {
    document.querySelectorAll("details.menu[open]").forEach(function (d) { d.open = false; });
    if (dialog.open) { dialog.close(); }
    dialog.showModal();
    const first = dialog.querySelector("input:not([type=hidden]), select, textarea, button");
    if (first) { first.focus(); if (first.select && first.value) { first.select(); } }
  }
  document.addEventListener("click", function (event) {
    const opener = event.target.closest("[data-open-dialog]");
    if (opener) {
      const dialog = document.getElementById(opener.dataset.openDialog);
      if (dialog && dialog.showModal) { event.preventDefault(); openDialog(dialog); }
      return;
    }
    const closer = event.target.closest("[data-close-dialog]");
    if (closer) {
      const dialog = closer.closest("dialog");
      if (dialog) { event.preventDefault(); dialog.close(); }
    }
  });
  document.querySelectorAll("dialog[data-open-on-load]").forEach(function (dialog) {
    if (dialog.showModal) { openDialog(dialog); }
  });
  document.querySelectorAll("dialog").forEach(function (dialog) {
    dialog.addEventListener("close", function () {
      // The no-script link put ?dialog= in the address: drop it so a reload does not reopen.
      const url = new URL(window.location.href);
      if (url.searchParams.has("dialog")) {
        url.searchParams.delete("dialog");
        history.replaceState(null, "", url.pathname + url.search + url.hash);
      }
    });
  });

  // Menus (<details>): one open at a time; Escape or a click elsewhere closes them.
  const menus = document.querySelectorAll("details.menu");
  menus.forEach(function (menu) {
    menu.addEventListener("toggle", function () {
      if (menu.open) {
        menus.forEach(function (other) { if (other !== menu) { other.open = false; } });
        const first = menu.querySelector("[role=menuitem]");
        if (first) { first.focus(); }
      }
    });
    menu.addEventListener("keydown", function (event) {
      const items = Array.from(menu.querySelectorAll("[role=menuitem]"));
      const index = items.indexOf(document.activeElement);
      if (event.key === "Escape") {
        menu.open = false;
        menu.querySelector("summary").focus();
      } else if (event.key === "ArrowDown" && items.length) {
        event.preventDefault();
        items[(index + 1) % items.length].focus();
      } else if (event.key === "ArrowUp" && items.length) {
        event.preventDefault();
        items[(index - 1 + items.length) % items.length].focus();
      }
    });
  });
  document.addEventListener("click", function (event) {
    menus.forEach(function (menu) { if (menu.open && !menu.contains(event.target)) { menu.open = false; } });
  });

  // Copy buttons.
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    // Plain http on another host: the old way.
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "visually-hidden";
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); } finally { area.remove(); }
    return Promise.resolve();
  }
  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-copy]");
    if (!button) { return; }
    copyText(button.dataset.copy).then(function () {
      const label = button.textContent;
      button.textContent = button.dataset.copied || "✓";
      button.classList.add("copied");
      setTimeout(function () { button.textContent = label; button.classList.remove("copied"); }, 1500);
    });
  });

  // Buttons that ask first (delete a row, revoke a key).
  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-confirm]");
    if (button && !window.confirm(button.dataset.confirm)) { event.preventDefault(); }
  });

  window.powerdialer = { csrfToken: csrfToken };
})();
