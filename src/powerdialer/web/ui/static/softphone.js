/* The browser softphone: a small face over the vendored JsSIP (vendor/jssip.min.js, load it
   first). docs/telephony.md, "Browser softphone".

     const phone = PDSoftphone.create({wsUrl, uri, password, displayName});
     await phone.register();               // resolves when registered, rejects with {sipStatus, cause}
     const call = phone.call("sip:380931234567@pbx.example");  // or a bare number
     call.on("progress", ({sipStatus}) => …);   // 180/183 from the far end
     call.on("confirmed", () => …);             // answered: media flows
     call.on("ended", ({sipStatus, cause, durationSeconds, proposedOutcome}) => …);
     call.mute(true); call.dtmf("5"); call.hangup();
     phone.stop();

   "ended" fires once per call, however it ends (refused, cancelled, hung up by either side).
   proposedOutcome is what the SIP answer suggests (486 → busy; 480, 408, 487 → no_answer; 404,
   484, 604 → wrong_number; 5xx → failed; an answered call → answered): the operator confirms or
   changes it. durationSeconds counts from "confirmed" to the end, 0 for an unanswered call.

   The SIP account (WebSocket URL, SIP URI, password, display name) is kept in this browser's
   localStorage by PDSoftphone.account.save(scope, account) (scope: the signed-in user, from
   <body data-softphone-scope>, see PDSoftphone.scope()): it is never sent to powerdialer's
   server, only to the SIP server over the WebSocket. A page hosting the softphone needs the
   headers of powerdialer.web.ui.routes.softphone.allow_softphone (WebSocket, microphone). */
(function () {
  "use strict";

  const STORAGE_KEY = "powerdialer.softphone.account";

  // The one mapping, as in powerdialer.telephony (SIP_PROPOSALS): a SIP final status → the
  // outcome it proposes.
  const PROPOSALS = {
    486: "busy", 600: "busy",
    480: "no_answer", 408: "no_answer", 487: "no_answer",
    404: "wrong_number", 484: "wrong_number", 604: "wrong_number",
  };

  function proposedOutcome(sipStatus, answered) {
    if (answered) return "answered";
    if (sipStatus && PROPOSALS[sipStatus]) return PROPOSALS[sipStatus];
    if (sipStatus >= 500 && sipStatus < 600) return "failed";
    return null; // nothing to propose (e.g. the operator cancelled before any answer)
  }

  function emitter() {
    const handlers = {};
    return {
      on(name, fn) { (handlers[name] = handlers[name] || []).push(fn); return this; },
      emit(name, value) {
        for (const fn of handlers[name] || []) {
          try { fn(value); } catch (error) { setTimeout(() => { throw error; }); }
        }
      },
    };
  }

  function statusOf(message) {
    return message && typeof message.status_code === "number" ? message.status_code : null;
  }

  // SIP causes JsSIP gives without a status of its own (e.g. a CANCEL we sent) → their status.
  function causeStatus(cause) {
    const C = window.JsSIP.C.causes;
    if (cause === C.CANCELED) return 487;
    if (cause === C.BUSY) return 486;
    if (cause === C.NOT_FOUND) return 404;
    if (cause === C.REQUEST_TIMEOUT || cause === C.NO_ANSWER) return 408;
    if (cause === C.UNAVAILABLE) return 480;
    return null;
  }

  function wrapCall(session, options) {
    const events = emitter();
    let confirmedAt = null;
    let ended = null;
    const started = performance.now();

    function finish(event) {
      if (ended) return;
      const answered = confirmedAt !== null;
      const sipStatus = answered ? 200 : statusOf(event.message) || causeStatus(event.cause);
      const seconds = answered ? (performance.now() - confirmedAt) / 1000 : 0;
      ended = {
        sipStatus,
        cause: event.cause || null,
        durationSeconds: Math.round(seconds),
        proposedOutcome: proposedOutcome(sipStatus, answered),
        originator: event.originator || null,
      };
      events.emit("ended", ended);
    }

    session.on("peerconnection", ({ peerconnection }) => {
      peerconnection.addEventListener("track", (event) => {
        if (!options.audioElement) return;
        options.audioElement.srcObject = event.streams[0];
        const played = options.audioElement.play();
        if (played && played.catch) played.catch(() => {});
      });
    });
    if (options.candidateFilter) {
      // Keep only the ICE candidates whose address matches, ours and the far end's (a lab on
      // 127.0.0.1 keeps its media on loopback this way).
      session.on("sdp", (event) => {
        event.sdp = event.sdp
          .split("\r\n")
          .filter((line) => !line.startsWith("a=candidate:") || options.candidateFilter.test(line.split(" ")[4]))
          .join("\r\n");
      });
    }
    session.on("progress", (event) => {
      events.emit("progress", { sipStatus: statusOf(event.response) });
    });
    session.on("confirmed", () => {
      confirmedAt = performance.now();
      events.emit("confirmed", { setupMs: Math.round(confirmedAt - started) });
    });
    session.on("ended", finish);
    session.on("failed", finish);

    return {
      on(name, fn) {
        events.on(name, fn);
        if (name === "ended" && ended) fn(ended); // ended before the handler was attached
        return this;
      },
      mute(on) {
        if (on) session.mute({ audio: true });
        else session.unmute({ audio: true });
      },
      isMuted() { return Boolean(session.isMuted().audio); },
      hangup() { if (!session.isEnded()) session.terminate(); },
      dtmf(digit) {
        if (!/^[0-9*#A-D]$/.test(String(digit))) throw new Error("DTMF digit must be 0-9, *, # or A-D");
        session.sendDTMF(String(digit), { transportType: "RFC2833" });
      },
      get peerConnection() { return session.connection; },
      get session() { return session; },
    };
  }

  function targetUri(target, uri) {
    // A bare number is dialled on the operator's own SIP domain.
    const text = String(target).trim();
    if (/^sips?:/i.test(text)) return text;
    const domain = String(uri).replace(/^sips?:/i, "").split("@").pop();
    return `sip:${text}@${domain}`;
  }

  function create(config) {
    const { wsUrl, uri, password, displayName } = config || {};
    if (!window.JsSIP) throw new Error("softphone: load vendor/jssip.min.js before softphone.js");
    if (!wsUrl || !/^wss?:\/\//i.test(wsUrl)) throw new Error("softphone: wsUrl must start with ws:// or wss://");
    if (!uri || !/^sips?:[^@\s]+@[^\s]+$/i.test(uri)) throw new Error("softphone: uri must look like sip:user@domain");
    const socket = new window.JsSIP.WebSocketInterface(wsUrl);
    const ua = new window.JsSIP.UA({
      sockets: [socket],
      uri,
      password: password || undefined,
      display_name: displayName || undefined,
      register: false,
      session_timers: false,
      connection_recovery_min_interval: 2,
      connection_recovery_max_interval: 30,
    });
    const events = emitter();
    for (const name of ["connected", "disconnected", "registered", "unregistered", "registrationFailed"]) {
      ua.on(name, (event) => events.emit(name, event));
    }
    let started = false;
    const audioElement = config.audioElement || (typeof Audio === "function" ? new Audio() : null);
    if (audioElement) audioElement.autoplay = true;

    return {
      on(name, fn) { events.on(name, fn); return this; },
      register() {
        return new Promise((resolve, reject) => {
          const done = () => { ua.removeListener("registered", ok); ua.removeListener("registrationFailed", bad); };
          const ok = () => { done(); resolve({ registered: true }); };
          const bad = (event) => { done(); reject({ sipStatus: statusOf(event.response), cause: event.cause }); };
          ua.on("registered", ok);
          ua.on("registrationFailed", bad);
          if (!started) { started = true; ua.start(); }
          // A REGISTER sent before the WebSocket is open fails at once ("Connection Error").
          if (ua.isConnected()) ua.register();
          else ua.once("connected", () => ua.register());
        });
      },
      isRegistered() { return ua.isRegistered(); },
      call(target, options) {
        const callOptions = options || {};
        const session = ua.call(targetUri(target, uri), {
          mediaConstraints: { audio: true, video: false },
          pcConfig: { iceServers: callOptions.iceServers || config.iceServers || [] },
          rtcOfferConstraints: { offerToReceiveAudio: true, offerToReceiveVideo: false },
        });
        return wrapCall(session, {
          audioElement,
          candidateFilter: callOptions.candidateFilter || config.candidateFilter || null,
        });
      },
      stop() { if (started) ua.stop(); started = false; },
    };
  }

  // Only this browser keeps the account, one per signed-in user (``scope``: the page's
  // data-softphone-scope), so two people sharing a browser do not see each other's: never
  // sent to powerdialer's server.
  const account = {
    load(scope) {
      try {
        const saved = JSON.parse(window.localStorage.getItem(`${STORAGE_KEY}.${scope}`) || "null");
        return saved && saved.wsUrl && saved.uri ? saved : null;
      } catch (_) {
        return null;
      }
    },
    save(scope, { wsUrl, uri, password, displayName }) {
      window.localStorage.setItem(`${STORAGE_KEY}.${scope}`, JSON.stringify({ wsUrl, uri, password, displayName }));
    },
    forget(scope) { window.localStorage.removeItem(`${STORAGE_KEY}.${scope}`); },
  };

  function scope() {
    const holder = document.querySelector("[data-softphone-scope]");
    return holder ? holder.dataset.softphoneScope : "anonymous";
  }

  window.PDSoftphone = Object.freeze({ create, account, scope, proposedOutcome, PROPOSALS });
})();
