// The operator's screen: keyboard first (docs/ui.md, "Operator screen").
// States: idle → loading → contact (a lease; preview countdown or power's own call) → calling
// → wrapup (an outcome chosen: countdown, then recorded and the next contact) → …; paused and
// none (nothing to call) wait for N or P. The server's JSON calls are /dialer/… with the
// session's CSRF token in X-CSRF-Token; leaving the page sends the release (or the chosen
// outcome) with fetch keepalive.
// Past 300 lines on purpose: one state machine (its states, keys and server calls) reads best
// in one closure; placing the call (link, softphone, server-side) is the part to split out next.
"use strict";

(function () {
  const root = document.getElementById("op");
  const configNode = document.getElementById("op-config");
  if (!root || !configNode) { return; }
  const config = JSON.parse(configNode.textContent);
  const T = config.text;
  const $ = function (id) { return document.getElementById(id); };
  const els = {
    status: $("op-status"), start: $("op-start"), campaign: $("op-campaign"), work: $("op-work"),
    contact: $("op-contact"), name: $("op-name"), number: $("op-number"), country: $("op-country"),
    localTime: $("op-local-time"), zone: $("op-zone"), fields: $("op-fields"),
    campaignName: $("op-campaign-name"), mode: $("op-mode"),
    callLink: $("op-call-link"), callButton: $("op-call-button"), callControls: $("op-call-controls"),
    mute: $("op-mute"), hangup: $("op-hangup"), dtmf: $("op-dtmf"), timer: $("op-timer"),
    message: $("op-message"), outcomes: $("op-outcomes"), skip: $("op-skip"), note: $("op-note"),
    next: $("op-next"), pause: $("op-pause"), history: $("op-history"),
    scriptCard: $("op-script-card"), script: $("op-script"),
    skipDialog: $("op-skip-dialog"), skipReason: $("op-skip-reason"), skipError: $("op-skip-error"),
    pauseDialog: $("op-pause-dialog"), pauseReason: $("op-pause-reason"),
    callbackDialog: $("op-callback-dialog"), callbackAt: $("op-callback-at"),
    callbackPersonal: $("op-callback-personal"), callbackError: $("op-callback-error"),
  };
  const outcomeByKey = {};
  const outcomeByCode = {};
  config.outcomes.forEach(function (o) { outcomeByCode[o.code] = o; if (o.key) { outcomeByKey[o.key] = o; } });

  const s = {
    state: "idle", campaignId: null, campaignName: "", rules: null, lease: null, contact: null,
    chosen: null, wrapEndsAt: 0, wrapLeft: 0, noteTypedAt: 0, pauseAfter: null, pausedReason: null,
    countdownEndsAt: 0, call: null, callStartedAt: 0, duration: null, autoCalled: false,
    renewTimer: null, tickTimer: null, retryTimer: null, busy: false, phone: null,
    registering: null, registerPending: false, proposed: null,
  };

  function fmt(text, values) {
    return text.replace(/%\((\w+)\)s/g, function (_, k) { return values[k] === undefined ? "" : String(values[k]); });
  }
  function csrf() { return window.powerdialer ? window.powerdialer.csrfToken() : ""; }

  function post(path, body, keepalive) {
    return fetch(path, {
      method: "POST", credentials: "same-origin", keepalive: !!keepalive,
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": csrf() },
      body: JSON.stringify(body || {}),
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (!r.ok) { const e = new Error(data.error || String(r.status)); e.status = r.status; e.code = data.code; throw e; }
        return data;
      });
    });
  }

  // Presence (ready, on_call, wrap_up, paused, offline): only where the server has it.
  // One at a time, in order: "ready" then "on_call" sent together could land the other way.
  let presenceState = null;
  let presenceQueue = Promise.resolve();
  function presence(state, reason, keepalive) {
    presenceState = { state: state, reason: reason || null };
    if (!config.presence_url) { return; }
    const body = { campaign_id: s.campaignId, state: state, reason: reason || null };
    if (keepalive) { post(config.presence_url, body, true).catch(function () {}); return; }
    presenceQueue = presenceQueue.then(function () {
      return post(config.presence_url, body).catch(function () {});
    });
  }
  setInterval(function () { if (presenceState && s.campaignId) { presence(presenceState.state, presenceState.reason); } }, 20000);

  function setState(state) {
    s.state = state;
    root.dataset.state = state;
    const hasContact = !!s.lease && (state === "contact" || state === "calling" || state === "wrapup");
    els.outcomes.querySelectorAll("button").forEach(function (b) { b.disabled = !hasContact; });
    els.next.disabled = !(state === "wrapup" || state === "none" || state === "paused");
    render();
  }
  function say(text) { els.message.textContent = text || ""; }

  function render() {
    let text = "";
    const now = Date.now();
    if (s.state === "loading") { text = T.loading; }
    else if (s.state === "none") { text = T.nothing + " " + T.try_again; }
    else if (s.state === "paused") { text = T.paused + (s.pausedReason ? " · " + reasonLabel(s.pausedReason) : "") + ". " + T.resume_hint; }
    else if (s.state === "calling") { text = s.call && s.call.confirmed ? T.on_call : T.calling; }
    else if (s.state === "wrapup") {
      if (wrapHeld()) { text = T.wrap_up_held; }
      else { text = fmt(T.wrap_up, { seconds: Math.max(0, Math.ceil(s.wrapLeft / 1000)) }) + " " + T.wrap_up_now; }
    } else if (s.state === "contact" && s.countdownEndsAt) {
      text = fmt(T.calling_in, { seconds: Math.max(0, Math.ceil((s.countdownEndsAt - now) / 1000)) });
    }
    if (els.status.textContent !== text) { els.status.textContent = text; }  // no re-announcing
    if (s.callStartedAt && s.state === "calling") {
      els.timer.textContent = fmt(T.seconds, { seconds: Math.floor((now - s.callStartedAt) / 1000) });
    }
    els.outcomes.querySelectorAll("[data-outcome]").forEach(function (b) {
      b.setAttribute("aria-pressed", s.chosen && s.chosen.code === b.dataset.outcome ? "true" : "false");
    });
  }
  function reasonLabel(code) {
    const found = config.pause_reasons.filter(function (r) { return r.code === code; })[0];
    return found ? found.label : code;
  }

  // ---- the contact ----
  function clearTimers() {
    clearTimeout(s.renewTimer); clearTimeout(s.retryTimer);
    s.renewTimer = s.retryTimer = null; s.countdownEndsAt = 0;
  }

  function showContact(answer) {
    const c = answer.contact;
    s.lease = answer.lease; s.contact = c; s.chosen = null; s.duration = null; s.autoCalled = false; s.proposed = null;
    s.callStartedAt = 0; els.timer.textContent = "";
    els.contact.dataset.lease = String(answer.lease.lease_id);
    els.name.textContent = c.fio || c.number.international;
    els.number.textContent = c.number.international;
    els.country.textContent = c.number.country ? "(" + c.number.country + ")" : "";
    els.zone.textContent = c.zones.join(", ");
    showLocalTime();
    els.fields.replaceChildren();
    Object.keys(c.fields || {}).forEach(function (k) {
      const dt = document.createElement("dt"); dt.textContent = k;
      const dd = document.createElement("dd"); dd.textContent = String(c.fields[k]);
      els.fields.append(dt, dd);
    });
    if (c.external_id) {
      const dt = document.createElement("dt"); dt.textContent = "ID";
      const dd = document.createElement("dd"); dd.textContent = c.external_id;
      els.fields.append(dt, dd);
    }
    showHistory(answer.history);
    showScript(c);
    els.note.value = "";
    const method = config.telephony.method;
    els.callLink.hidden = method !== "link";
    els.callButton.hidden = method === "link";
    els.callControls.hidden = true;
    if (method === "link") { els.callLink.href = c.call_link; }
    els.callButton.disabled = false;
    scheduleRenew();
  }

  function showLocalTime() {
    if (!s.contact) { return; }
    try {
      els.localTime.textContent = new Intl.DateTimeFormat(document.documentElement.lang, {
        timeZone: s.contact.zones[0], weekday: "short", hour: "2-digit", minute: "2-digit",
      }).format(new Date());
    } catch (e) { els.localTime.textContent = s.contact.local_time; }
  }

  function showHistory(items) {
    els.history.replaceChildren();
    if (!items.length) {
      const li = document.createElement("li"); li.className = "muted"; li.textContent = T.no_attempts;
      els.history.append(li); return;
    }
    items.slice().reverse().forEach(function (a) {
      const li = document.createElement("li");
      const head = document.createElement("span"); head.className = "op-history-head";
      const label = config.outcome_labels[a.outcome] || a.outcome;
      const when = new Date(a.recorded_at).toLocaleString(document.documentElement.lang);
      const who = a.operator_id === config.operator_id ? T.you : fmt(T.operator, { id: a.operator_id });
      head.textContent = when + " · " + label + " · " + who + (a.duration_seconds != null ? " · " + fmt(T.seconds, { seconds: a.duration_seconds }) : "");
      li.append(head);
      if (a.note) { const p = document.createElement("p"); p.className = "op-history-note"; p.textContent = a.note; li.append(p); }
      els.history.append(li);
    });
  }

  function showRules(rules) {
    s.rules = rules;
    els.mode.textContent = rules.dialing_mode === "power" ? T.mode_power : T.mode_preview;
    els.campaignName.textContent = s.campaignName;
    els.scriptCard.hidden = !rules.script;
    showScript(null);
  }

  // The script with its placeholders filled (docs/ui.md, "Script placeholders"): {name},
  // {phone}, {campaign}, {field:<custom field's name>}; {{ and }} are braces. Built of text
  // nodes only, never HTML; a placeholder it does not know, or one this contact has no value
  // for, stays as written, marked. CSS keeps the line breaks.
  const PLACEHOLDER = /\{\{|\}\}|\{([^{}\n]{1,200})\}/g;
  function placeholderValue(key, c) {
    if (key === "name") { return c.fio || ""; }
    if (key === "phone") { return c.number.international; }
    if (key === "campaign") { return s.campaignName; }
    if (key.indexOf("field:") === 0) {
      const name = key.slice(6).trim();
      return c.fields && Object.prototype.hasOwnProperty.call(c.fields, name) ? String(c.fields[name]) : "";
    }
    return null;  // not a placeholder we know
  }
  function showScript(contact) {
    const text = (s.rules && s.rules.script) || "";
    if (!contact) { els.script.textContent = text; return; }
    const parts = [];
    let at = 0;
    text.replace(PLACEHOLDER, function (whole, key, offset) {
      if (offset > at) { parts.push(document.createTextNode(text.slice(at, offset))); }
      at = offset + whole.length;
      if (key === undefined) { parts.push(document.createTextNode(whole[0])); return whole; }
      const value = placeholderValue(key.trim(), contact);
      const span = document.createElement("span");
      if (value) { span.className = "op-filled"; span.textContent = value; }
      else {
        span.className = "op-placeholder";
        span.textContent = whole;
        span.title = value === null ? T.placeholder_unknown : T.placeholder_empty;
      }
      parts.push(span);
      return whole;
    });
    if (at < text.length) { parts.push(document.createTextNode(text.slice(at))); }
    els.script.replaceChildren.apply(els.script, parts);
  }

  function next() {
    if (s.busy || !s.campaignId) { return; }
    clearTimers();
    s.busy = true; s.lease = null; s.pausedReason = null;
    setState("loading");
    post("/dialer/campaigns/" + s.campaignId + "/next").then(function (answer) {
      s.busy = false;
      took(answer);
    }).catch(function (e) { s.busy = false; failed(e); });
  }

  function took(answer) {
    showRules(answer.campaign);
    if (!answer.lease) {
      s.contact = null; els.contact.dataset.lease = "";
      say(answer.none ? answer.none.message : "");
      setState("none"); presence("ready");
      s.retryTimer = setTimeout(function () { if (s.state === "none") { next(); } }, 15000);
      return;
    }
    showContact(answer);
    say(softphoneMissing() ? T.softphone_missing : "");
    setState("contact"); presence("ready");
    if (s.rules.dialing_mode === "power") { s.autoCalled = true; placeCall(); }
    else if (s.rules.preview_countdown_seconds) { s.countdownEndsAt = Date.now() + s.rules.preview_countdown_seconds * 1000; }
  }

  function failed(e) {
    if (e.status === 401) { say(T.signed_out); setState("idle"); return; }
    if (e.code === "lease_ended" || e.code === "lease_not_found" || e.code === "lease_not_yours") {
      say(T.lease_lost); s.lease = null; setTimeout(next, 1500); return;
    }
    say(fmt(T.error, { error: e.message }));
    if (s.state === "loading") { setState("none"); }
  }

  function scheduleRenew() {
    clearTimeout(s.renewTimer);
    if (!s.lease) { return; }
    const left = new Date(s.lease.expires_at).getTime() - Date.now();
    s.renewTimer = setTimeout(renew, Math.max(5000, left / 2));
  }
  function renew() {
    if (!s.lease) { return; }
    post("/dialer/leases/" + s.lease.lease_id + "/renew").then(function (answer) {
      if (s.lease && answer.lease.lease_id === s.lease.lease_id) { s.lease = answer.lease; scheduleRenew(); }
    }).catch(failed);
  }

  // ---- placing the call ----
  function placeCall() {
    if (s.state !== "contact" || !s.lease) { return; }
    s.countdownEndsAt = 0;
    const method = config.telephony.method;
    if (method === "link") {
      s.callStartedAt = Date.now(); setState("calling"); presence("on_call");
      window.location.href = els.callLink.href;  // the operator's own softphone takes the link
      return;
    }
    if (method === "softphone") { return softphoneCall(); }
    // Server-side: the PBX rings the operator's phone first, then the contact.
    const lease = s.lease;
    setState("calling"); presence("on_call");
    post("/dialer/leases/" + lease.lease_id + "/call").then(function (answer) {
      if (answer.ok) { s.callStartedAt = Date.now(); render(); return; }
      callFailed(answer.error || "", !!answer.released);
    }).catch(function (e) { callFailed(e.message, false); });
  }

  function callFailed(error, released) {
    say(fmt(T.call_failed, { error: error }));
    if (released) { s.lease = null; els.contact.dataset.lease = ""; }
    if (s.rules && s.rules.dialing_mode === "power") {
      // The operator did not take their own leg (or it could not ring): do not feed more.
      say(T.own_leg_unanswered + " " + fmt(T.call_failed, { error: error }));
      enterPause("technical");
      return;
    }
    if (released) { setState("none"); } else { setState("contact"); }
  }

  function softphoneMissing() { return config.telephony.method === "softphone" && !window.PDSoftphone; }

  function softphone() {
    if (!window.PDSoftphone) { return null; }
    if (s.phone) { return s.phone; }
    // The SIP account lives in this browser only (Account → Softphone, docs/telephony.md).
    const account = window.PDSoftphone.account.load(window.PDSoftphone.scope());
    if (!account || !account.uri) { return "no_credentials"; }
    s.phone = window.PDSoftphone.create({
      wsUrl: account.wsUrl || config.telephony.softphone_ws_url, uri: account.uri,
      password: account.password, displayName: account.displayName || "",
    });
    register();
    return s.phone;
  }

  // The registration a call waits for: started with the work, asked again by a call that
  // finds the phone not registered. Answers null once registered, else what went wrong: the
  // SIP server's refusal, the WebSocket closed, or no answer within REGISTER_WAIT_MS (JsSIP
  // would retry for ever).
  const REGISTER_WAIT_MS = 8000;
  function register() {
    const phone = s.phone;
    s.registerPending = true;
    s.registering = new Promise(function (resolve) {
      let done = false;
      function end(error) { if (!done) { done = true; s.registerPending = false; clearTimeout(timer); resolve(error); } }
      const timer = setTimeout(function () { end(T.sip_no_answer); }, REGISTER_WAIT_MS);
      phone.on("disconnected", function () { end(T.sip_disconnected); });
      Promise.resolve(phone.register()).then(function () { end(null); }, function (e) {
        end(String((e && (e.sipStatus || e.cause)) || T.sip_no_answer));
      });
    });
    return s.registering;
  }

  function softphoneUnusable(text) {
    // Power mode feeds no more contacts to a phone that cannot call: the contact goes back
    // unspent and the operator is paused, as for a leg not answered. Preview keeps the
    // contact on screen for the operator to decide.
    if (s.rules && s.rules.dialing_mode === "power") {
      giveBack();
      say(text + " " + T.resume_hint);
      enterPause("technical");
      return;
    }
    say(text); setState("contact");
  }

  function giveBack() {
    if (!s.lease) { return; }
    const lease = s.lease;
    s.lease = null; els.contact.dataset.lease = "";
    post("/dialer/leases/" + lease.lease_id + "/release").catch(function () {});
  }

  function softphoneCall() {
    const phone = softphone();
    if (phone === null) { say(T.softphone_missing); els.callButton.disabled = true; return; }
    if (phone === "no_credentials") { softphoneUnusable(T.softphone_no_credentials); return; }
    const lease = s.lease;
    s.call = { handle: null, confirmed: false, muted: false };
    setState("calling"); presence("on_call");
    const waiting = phone.isRegistered() ? Promise.resolve(null) : s.registerPending ? s.registering : register();
    waiting.then(function (error) {
      // Still this contact's call to place (not hung up, skipped, paused or chosen meanwhile)?
      if (s.lease !== lease || s.state !== "calling" || !s.call || s.call.handle || s.chosen) { return; }
      if (error) { s.call = null; softphoneUnusable(fmt(T.softphone_unregistered, { error: error })); return; }
      dial(phone);
    });
  }

  function dial(phone) {
    const call = phone.call(s.contact.phone_e164);
    s.call.handle = call;
    els.callControls.hidden = false;
    call.on("confirmed", function () { s.call.confirmed = true; s.callStartedAt = Date.now(); render(); });
    call.on("ended", function (info) {
      els.callControls.hidden = true;
      s.duration = info.durationSeconds != null ? info.durationSeconds : null;
      const auto = s.autoCalled;
      s.call = null;
      if (auto && s.rules.dialing_mode === "power" && info.sipStatus == null && !info.durationSeconds && !info.proposedOutcome && !s.chosen) {
        giveBack();  // the browser's own side failed: the contact was never rung
        callFailed(info.cause || "", true);
        return;
      }
      if (s.state === "calling") { setState("contact"); }
      say(T.call_ended);
      if (info.proposedOutcome && outcomeByCode[info.proposedOutcome] && !s.chosen) {
        s.proposed = info.proposedOutcome;
        say(fmt(T.proposed, { outcome: outcomeByCode[info.proposedOutcome].label }));
        const b = els.outcomes.querySelector('[data-outcome="' + info.proposedOutcome + '"]');
        if (b) { b.focus(); }
      }
    });
  }

  function hangup() {
    if (s.call && s.call.handle) { s.call.handle.hangup(); }
    else if (s.call) { s.call = null; if (s.state === "calling") { setState("contact"); } }  // not dialled yet
  }

  // ---- outcome and wrap-up ----
  function choose(code, extra) {
    if (!s.lease || !(s.state === "contact" || s.state === "calling" || s.state === "wrapup")) { return; }
    if (code === "callback" && !extra) { openCallback(); return; }
    s.chosen = Object.assign({ code: code }, extra || {});
    if (s.call) { hangup(); }
    // The duration recorded is the call's own (the softphone's, from answer to hang-up); a
    // link or a server-side call does not tell the screen when the talk began or ended.
    say(fmt(T.chosen, { outcome: outcomeByCode[code] ? outcomeByCode[code].label : code }));
    if (s.state !== "wrapup") {
      s.countdownEndsAt = 0;
      s.wrapLeft = s.rules.wrap_up_seconds * 1000;
      setState("wrapup"); presence("wrap_up");
    } else { render(); }
    if (s.wrapLeft <= 0 && !wrapHeld()) { finish(); }
  }

  function wrapHeld() {
    return document.activeElement === els.note || Date.now() - s.noteTypedAt < 1500;
  }

  function outcomeBody() {
    const body = { outcome: s.chosen.code, note: els.note.value.trim() || null };
    if (s.duration != null) { body.duration_seconds = s.duration; }
    if (s.chosen.callback_at) { body.callback_at = s.chosen.callback_at; body.callback_scope = s.chosen.callback_scope; }
    return body;
  }

  function finish() {
    if (s.busy || s.state !== "wrapup" || !s.chosen || !s.lease) { return; }
    s.busy = true;
    const lease = s.lease;
    const body = outcomeBody();
    // Record and take the next contact in one round trip, unless a pause is asked for.
    if (!s.pauseAfter) { body.next_campaign_id = s.campaignId; }
    post("/dialer/leases/" + lease.lease_id + "/outcome", body).then(function (recorded) {
      s.busy = false; s.lease = null; s.chosen = null; clearTimers();
      if (recorded.campaign_completed) { say(T.campaign_completed); }
      if (s.pauseAfter) { const reason = s.pauseAfter; s.pauseAfter = null; enterPause(reason); return; }
      if (recorded.next) { took(recorded.next); } else { next(); }
    }).catch(function (e) { s.busy = false; if (e.status === 422) { say(e.message); s.chosen = null; setState("contact"); return; } failed(e); });
  }

  // ---- skip, pause ----
  function openSkip() {
    if (!s.lease || !(s.state === "contact" || s.state === "calling")) { return; }
    els.skipReason.value = ""; els.skipError.textContent = "";
    els.skipDialog.showModal(); els.skipReason.focus();
  }
  els.skipDialog.addEventListener("close", function () {
    if (els.skipDialog.returnValue !== "ok") { return; }
    const reason = els.skipReason.value.trim();
    if (!reason || !s.lease) { return; }
    if (s.call) { hangup(); }
    const lease = s.lease;
    s.busy = true;
    post("/dialer/leases/" + lease.lease_id + "/skip", { reason: reason }).then(function () {
      s.busy = false; s.lease = null; clearTimers();
      if (s.pauseAfter) { const r = s.pauseAfter; s.pauseAfter = null; enterPause(r); return; }
      next();
    }).catch(function (e) { s.busy = false; failed(e); });
  });

  function openPause() {
    if (s.state === "paused") { next(); return; }  // P again resumes
    if (s.state === "idle" || s.state === "loading") { return; }
    els.pauseDialog.showModal(); els.pauseReason.focus();
  }
  els.pauseDialog.addEventListener("keydown", function (event) {
    const digit = digitOf(event);
    const reason = digit && config.pause_reasons.filter(function (r) { return r.key === digit; })[0];
    if (reason) { event.preventDefault(); els.pauseReason.value = reason.code; els.pauseDialog.close("ok"); }
  });
  els.pauseDialog.addEventListener("close", function () {
    if (els.pauseDialog.returnValue !== "ok") { return; }
    const reason = els.pauseReason.value;
    if (s.state === "wrapup") { s.pauseAfter = reason; s.wrapLeft = 0; finish(); return; }
    if (s.state === "calling") { s.pauseAfter = reason; return; }  // after this call's outcome
    if (s.state === "contact" && s.lease) {
      const lease = s.lease;
      s.lease = null;
      post("/dialer/leases/" + lease.lease_id + "/release").catch(function () {});
    }
    enterPause(reason);
  });
  function enterPause(reason) {
    clearTimers();
    s.pausedReason = reason; s.lease = null; s.chosen = null; s.contact = null;
    els.contact.dataset.lease = "";
    setState("paused"); presence("paused", reason);
  }

  // ---- callback ----
  function pad(n) { return String(n).padStart(2, "0"); }
  function localInput(date) {
    return date.getFullYear() + "-" + pad(date.getMonth() + 1) + "-" + pad(date.getDate()) + "T" + pad(date.getHours()) + ":" + pad(date.getMinutes());
  }
  function openCallback() {
    const soon = new Date(Date.now() + 3600 * 1000);
    soon.setSeconds(0, 0);
    els.callbackAt.value = localInput(soon);
    els.callbackAt.min = localInput(new Date());
    els.callbackPersonal.checked = false; els.callbackError.textContent = "";
    els.callbackDialog.showModal(); els.callbackAt.focus();
  }
  els.callbackDialog.addEventListener("keydown", function (event) {
    // Enter schedules from any field (the date's segments, the checkbox).
    if (event.key === "Enter" && event.target.tagName !== "BUTTON") { event.preventDefault(); els.callbackDialog.close("ok"); }
  });
  els.callbackDialog.addEventListener("close", function () {
    if (els.callbackDialog.returnValue !== "ok") { return; }
    const when = new Date(els.callbackAt.value);
    if (isNaN(when.getTime())) { say(T.callback_required); return; }
    choose("callback", { callback_at: when.toISOString(), callback_scope: els.callbackPersonal.checked ? "personal" : "anyone" });
  });

  // ---- the clock: wrap-up and preview countdowns, the contact's local time ----
  let last = Date.now();
  let minute = 0;
  setInterval(function () {
    const now = Date.now();
    const step = now - last; last = now;
    // The wrap-up waits for the note, and for an open dialog (P in the wrap-up asks the
    // pause's reason first).
    if (s.state === "wrapup" && !wrapHeld() && !document.querySelector("dialog[open]")) {
      s.wrapLeft -= step;
      if (s.wrapLeft <= 0) { finish(); }
    }
    if (s.state === "contact" && s.countdownEndsAt && now >= s.countdownEndsAt) { s.autoCalled = true; placeCall(); }
    if (now - minute > 30000) { minute = now; showLocalTime(); }
    render();
  }, 200);

  els.note.addEventListener("input", function () { s.noteTypedAt = Date.now(); });

  // ---- keys ----
  function digitOf(event) {
    const m = /^(?:Digit|Numpad)([0-9])$/.exec(event.code || "");
    return m ? m[1] : null;
  }
  function typing(target) {
    return target && (target.tagName === "TEXTAREA" || target.tagName === "SELECT" || (target.tagName === "INPUT" && target.type !== "checkbox"));
  }
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (document.querySelector("dialog[open]")) { return; }
    if (event.key === "Escape") {
      if (document.activeElement === els.note || document.activeElement === els.dtmf) { document.activeElement.blur(); s.noteTypedAt = 0; }
      if (s.countdownEndsAt) { s.countdownEndsAt = 0; render(); }
      return;
    }
    if (typing(event.target)) { return; }
    const digit = digitOf(event);
    if (digit && outcomeByKey[digit]) { event.preventDefault(); choose(outcomeByKey[digit].code); return; }
    switch (event.code) {
      case "KeyN":
        event.preventDefault();
        if (s.state === "idle") { startWork(); }
        else if (s.state === "wrapup") { s.wrapLeft = 0; s.noteTypedAt = 0; finish(); }
        else if (s.state === "none" || s.state === "paused") { next(); }
        return;
      case "KeyS": event.preventDefault(); openSkip(); return;
      case "KeyP": event.preventDefault(); openPause(); return;
      case "KeyC": event.preventDefault(); if (config.telephony.method === "link" && s.state === "contact") { els.callLink.click(); } else { placeCall(); } return;
      case "KeyH": event.preventDefault(); hangup(); return;
      case "KeyT": event.preventDefault(); if (s.lease) { els.note.focus(); } return;
      default:
    }
  });

  // ---- buttons (the same actions by pointer) ----
  els.outcomes.addEventListener("click", function (event) {
    const b = event.target.closest("[data-outcome]");
    if (b) { choose(b.dataset.outcome); }
  });
  els.skip.addEventListener("click", openSkip);
  els.pause.addEventListener("click", openPause);
  els.next.addEventListener("click", function () {
    if (s.state === "wrapup") { s.wrapLeft = 0; s.noteTypedAt = 0; finish(); } else { next(); }
  });
  els.callButton.addEventListener("click", placeCall);
  els.callLink.addEventListener("click", function () {
    if (s.state === "contact") { s.countdownEndsAt = 0; s.callStartedAt = Date.now(); setState("calling"); presence("on_call"); }
  });
  els.hangup.addEventListener("click", hangup);
  els.mute.addEventListener("click", function () {
    if (!s.call) { return; }
    s.call.muted = !s.call.muted; s.call.handle.mute(s.call.muted);
    els.mute.setAttribute("aria-pressed", s.call.muted ? "true" : "false");
  });
  els.dtmf.addEventListener("keydown", function (event) {
    if (s.call && /^[0-9*#]$/.test(event.key)) { s.call.handle.dtmf(event.key); }
  });

  function startWork() {
    if (!els.campaign) { return; }
    s.campaignId = Number(els.campaign.value);
    s.campaignName = els.campaign.options[els.campaign.selectedIndex].textContent;
    els.start.hidden = true; els.work.hidden = false;
    const url = new URL(window.location.href);
    url.searchParams.set("campaign", String(s.campaignId));
    history.replaceState(null, "", url.pathname + url.search);
    if (softphoneMissing()) { say(T.softphone_missing); }
    else if (config.telephony.method === "softphone") { softphone(); }  // registered before the first call
    next();
  }
  if (els.start) {
    els.start.addEventListener("submit", function (event) { event.preventDefault(); startWork(); });
    if (config.campaign) { els.campaign.value = String(config.campaign); }
    els.start.querySelector("button").focus();
  }

  // ---- leaving: give the contact back (or record the outcome already chosen) ----
  window.addEventListener("pagehide", function () {
    if (s.lease && s.state === "wrapup" && s.chosen && !s.busy) {
      post("/dialer/leases/" + s.lease.lease_id + "/outcome", outcomeBody(), true).catch(function () {});
    } else if (s.lease && (s.state === "contact" || s.state === "calling")) {
      post("/dialer/leases/" + s.lease.lease_id + "/release", {}, true).catch(function () {});
    }
    if (s.campaignId) { presence("offline", null, true); }
    s.lease = null;
  });

  // For tests and the curious: the screen's state, the call's (null, "registering" while it
  // waits for the softphone's registration, "ringing", "confirmed") and the outcome the last
  // call's SIP answer proposed.
  window.pdOperator = {
    state: function () { return s.state; },
    call: function () { return !s.call ? null : s.call.confirmed ? "confirmed" : s.call.handle ? "ringing" : "registering"; },
    proposed: function () { return s.proposed; },
  };
  setState("idle");
})();
