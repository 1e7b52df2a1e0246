// Account → Softphone on this browser: save, test and forget the SIP account, kept in this
// browser's localStorage only (PDSoftphone.account); nothing here talks to powerdialer.
"use strict";

(function () {
  const form = document.getElementById("softphone-form");
  if (!form || !window.PDSoftphone) return;
  const scope = window.PDSoftphone.scope();
  const status = document.getElementById("sp-status");
  const fields = {
    wsUrl: document.getElementById("sp-ws"),
    uri: document.getElementById("sp-uri"),
    password: document.getElementById("sp-password"),
    displayName: document.getElementById("sp-name"),
  };
  let phone = null;

  function say(kind, detail) {
    status.textContent = status.dataset[kind] + (detail ? " " + detail : "");
    status.dataset.state = kind;
  }
  function current() {
    const value = {};
    for (const [key, input] of Object.entries(fields)) value[key] = input.value.trim();
    return value;
  }

  const saved = window.PDSoftphone.account.load(scope);
  if (saved) for (const [key, input] of Object.entries(fields)) input.value = saved[key] || "";

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    window.PDSoftphone.account.save(scope, current());
    say("saved");
  });
  document.getElementById("sp-forget").addEventListener("click", function () {
    window.PDSoftphone.account.forget(scope);
    for (const input of Object.values(fields)) input.value = "";
    if (phone) { phone.stop(); phone = null; }
    say("forgotten");
  });
  document.getElementById("sp-test").addEventListener("click", function () {
    if (phone) phone.stop();
    try {
      phone = window.PDSoftphone.create(current());
    } catch (error) {
      say("invalid", error.message.replace(/^softphone: /, ""));
      return;
    }
    say("registering");
    phone.register().then(
      function () { say("registered"); },
      function (failure) { say("failed", [failure.sipStatus, failure.cause].filter(Boolean).join(" ")); },
    );
  });
})();
