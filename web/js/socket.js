// One WebSocket to the gateway that comes back by itself: exponential backoff with jitter,
// a fresh ID token (and App Check token, when on) for every attempt, then the page's
// `resume` frame (REJOIN or WATCH_SESSION) so the server puts this new connection back in
// the session's room.
// The page is told "open" only once that is done (SESSION_JOINED, or the refusal of the
// resume frame): until then a player would miss what the room is sent. A frame with no
// ACK after ACK_TIMEOUT_MS is sent again under its message_id (its publish may have
// succeeded with the reply lost: the server counts it once).

const SUBPROTOCOL = "quiz.v1";
const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 15000;
const CLOCK_SAMPLES_KEPT = 20;
const ACK_TIMEOUT_MS = 3000;

export class QuizSocket {
  /**
   * auth: an Auth (idToken(), appCheckToken()); url: the gateway's /ws;
   * onFrame(frame): every server frame but ACK; onState("connecting"|"open"|"reconnecting"|"closed");
   * resume(): the {type, payload} to send first on each (re)connect, or null.
   */
  constructor({ auth, url, onFrame, onState = () => {}, resume = () => null }) {
    Object.assign(this, { auth, url, onFrame, onState, resume });
    this.ws = null;
    this.attempt = 0;
    this.stopped = true;
    this.everOpened = false;
    this.retryTimer = null;
    // Frames not yet acknowledged, by message_id ({frame, sentAt}): sent again after a
    // reconnect, or when their ACK is overdue.
    this.unacked = new Map();
    this.resendTimer = null;
    this.resumeId = null;
    this.clockSamples = [];
  }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    this.resendTimer = setInterval(() => this.resendOverdue(), ACK_TIMEOUT_MS / 3);
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.resendTimer);
    this.unacked.clear();
    if (this.ws) this.ws.close(1000, "bye");
    this.ws = null;
    this.onState("closed");
  }

  /** Queue-or-send a client frame (sent once the connection is back in its session); returns its message_id. */
  send(type, payload, messageId = newMessageId()) {
    const frame = { type, payload, timestamp: new Date().toISOString(), message_id: messageId };
    this.unacked.set(messageId, { frame, sentAt: Date.now() });
    if (this.ws?.readyState === WebSocket.OPEN && !this.resumeId) this.ws.send(JSON.stringify(frame));
    return messageId;
  }

  /** The connection is usable: the page is told, and what waited is sent. */
  opened() {
    this.onState("open");
    for (const entry of this.unacked.values()) {
      entry.sentAt = Date.now();
      this.ws.send(JSON.stringify(entry.frame));
    }
  }

  /** Frames whose ACK is overdue, sent again (not while a resume is under way: it resends all). */
  resendOverdue() {
    if (this.ws?.readyState !== WebSocket.OPEN || this.resumeId) return;
    const due = Date.now() - ACK_TIMEOUT_MS;
    for (const entry of this.unacked.values()) {
      if (entry.sentAt > due) continue;
      entry.sentAt = Date.now();
      this.ws.send(JSON.stringify(entry.frame));
    }
  }

  /** Server time now, from the frames' timestamps (the largest offset seen is the least delayed). */
  serverNowMs() {
    const offset = this.clockSamples.length ? Math.max(...this.clockSamples) : 0;
    return Date.now() + offset;
  }

  async connect() {
    this.onState(this.everOpened || this.attempt > 0 ? "reconnecting" : "connecting");
    let idToken, appCheckToken;
    try {
      [idToken, appCheckToken] = await Promise.all([this.auth.idToken(), this.auth.appCheckToken()]);
    } catch {
      this.retry();
      return;
    }
    if (this.stopped) return;
    // Browsers cannot set headers on a WebSocket: the tokens ride as subprotocols (the
    // gateway answers with SUBPROTOCOL only, never echoing a token).
    const protocols = [SUBPROTOCOL, `bearer.${idToken}`];
    if (appCheckToken) protocols.push(`appcheck.${appCheckToken}`);
    const ws = new WebSocket(this.url, protocols);
    this.ws = ws;
    ws.onopen = () => {
      this.everOpened = true;
      const resume = this.resume();
      if (resume) {
        // What waits is sent once the server has this connection back in the session:
        // one player's frames are not kept in order, and a score for an answer that
        // overtook the REJOIN would find no socket of theirs in the room.
        const frame = this.frame(resume.type, resume.payload);
        this.resumeId = frame.message_id;
        ws.send(JSON.stringify(frame));
      } else {
        this.opened();
      }
    };
    ws.onmessage = (event) => this.receive(event.data);
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.resumeId = null;
      if (!this.stopped) this.retry();
    };
    // An error is always followed by close, which retries.
    ws.onerror = () => {};
  }

  retry() {
    if (this.stopped) return;
    this.onState("reconnecting");
    const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** this.attempt);
    this.attempt += 1;
    // Half fixed, half random: never a thundering herd, never a zero wait.
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  receive(raw) {
    let frame;
    try {
      frame = JSON.parse(raw);
    } catch {
      return;
    }
    // Any frame proves the connection works end to end: the next failure starts over.
    this.attempt = 0;
    const at = Date.parse(frame.timestamp);
    if (!Number.isNaN(at)) {
      this.clockSamples.push(at - Date.now());
      if (this.clockSamples.length > CLOCK_SAMPLES_KEPT) this.clockSamples.shift();
    }
    if (frame.type === "ACK") {
      this.unacked.delete(frame.payload?.message_id);
      return;
    }
    if (frame.type === "ERROR" && frame.message_id) this.unacked.delete(frame.message_id);
    if (this.resumeId && (frame.type === "SESSION_JOINED" || frame.message_id === this.resumeId)) {
      this.resumeId = null;
      this.opened();
    }
    this.onFrame(frame);
  }

  frame(type, payload) {
    return { type, payload, timestamp: new Date().toISOString(), message_id: newMessageId() };
  }
}

export function newMessageId() {
  return crypto.randomUUID ? crypto.randomUUID().replaceAll("-", "") : String(Math.random()).slice(2);
}
