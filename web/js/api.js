// The host HTTP API (vocabquiz/service/api.py) with the signed-in host's bearer token
// (and App Check token, when App Check is on).
// Refusals arrive as {error: {code, message}} and are thrown as ApiError.
// PlayerApi is the player's side (their own review); attachments come through fetchFile.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// A 503 from the API is "busy: nothing was changed; try again" (with Retry-After); a GET
// that never got an answer changed nothing either. Both are sent again, a few times.
const ATTEMPTS = 3;
const MAX_WAIT_MS = 5000;

async function sendPatiently(url, init) {
  for (let attempt = 1; ; attempt++) {
    let response;
    try {
      response = await fetch(url, init);
    } catch {
      if (init.method === "GET" && attempt < ATTEMPTS) {
        await pause(1000);
        continue;
      }
      throw new ApiError(0, "UNAVAILABLE", "Cannot reach the quiz API. Check your connection and try again.");
    }
    if (response.status !== 503 || attempt >= ATTEMPTS) return response;
    const seconds = Number(response.headers.get("Retry-After"));
    await pause(Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds * 1000, MAX_WAIT_MS) : 1000);
  }
}

function pause(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class HostApi {
  constructor(config, auth) {
    this.base = `${config.apiUrl}/api/v1`;
    this.auth = auth;
  }

  /** `body`: an object sent as JSON; `text`: a body sent as it is (a quiz file). */
  async request(method, path, body, { raw = false, text } = {}) {
    let idToken, appCheckToken;
    try {
      [idToken, appCheckToken] = await Promise.all([this.auth.idToken(), this.auth.appCheckToken()]);
    } catch (error) {
      throw new ApiError(0, "UNAUTHENTICATED", error.message);
    }
    const headers = { Authorization: `Bearer ${idToken}` };
    if (appCheckToken) headers["X-Firebase-AppCheck"] = appCheckToken;
    if (body !== undefined || text !== undefined) headers["Content-Type"] = "application/json";
    const sent = { method, headers, body: text ?? (body === undefined ? undefined : JSON.stringify(body)) };
    const response = await sendPatiently(`${this.base}${path}`, sent);
    if (!response.ok) {
      const data = await response.json().catch(() => ({}));
      throw new ApiError(
        response.status,
        data?.error?.code || `HTTP_${response.status}`,
        data?.error?.message || `The quiz API answered HTTP ${response.status}`,
      );
    }
    return raw ? response : response.json();
  }

  /** One page of the quizzes this host may host (public + their own), by id:
   * {quizzes: [{quiz_id, title, question_count, public, library, yours}], next_page_token}. */
  listQuizzes(pageToken = null) {
    const query = pageToken ? `?page_token=${encodeURIComponent(pageToken)}` : "";
    return this.request("GET", `/quizzes${query}`);
  }

  /** visibility: "private" (only this host may list and host it) or "public". */
  uploadQuiz(fileText, visibility) {
    return this.request("POST", `/quizzes?visibility=${encodeURIComponent(visibility)}`, undefined, {
      text: fileText,
    });
  }

  createSession(quizId, maxParticipants, autoAdvance) {
    return this.request("POST", "/sessions", {
      quiz_id: quizId,
      max_participants: maxParticipants,
      auto_advance: autoAdvance,
    });
  }

  getSession(sessionId) {
    return this.request("GET", `/sessions/${encodeURIComponent(sessionId)}`);
  }

  /** verb: start | next | end */
  act(sessionId, verb) {
    return this.request("POST", `/sessions/${encodeURIComponent(sessionId)}/${verb}`);
  }

  kick(sessionId, userId) {
    return this.request("POST", `/sessions/${encodeURIComponent(sessionId)}/kick`, { user_id: userId });
  }

  results(sessionId) {
    return this.request("GET", `/sessions/${encodeURIComponent(sessionId)}/results`);
  }

  resultsCsv(sessionId) {
    const id = encodeURIComponent(sessionId);
    return fetchFile(this, `/sessions/${id}/results?format=csv`, `results-${sessionId}.csv`);
  }

  /** Per word of the session, hardest first: {players, words: [{word, answered, correct, ...}]}. */
  classView(sessionId) {
    return this.request("GET", `/sessions/${encodeURIComponent(sessionId)}/class`);
  }

  classCsv(sessionId) {
    const id = encodeURIComponent(sessionId);
    return fetchFile(this, `/sessions/${id}/class?format=csv`, `class-${sessionId}.csv`);
  }

  /** Every question of the session's quiz as one Anki deck. */
  quizDeck(sessionId, quizId) {
    return fetchFile(this, `/sessions/${encodeURIComponent(sessionId)}/deck`, `quiz-${quizId || sessionId}.apkg`);
  }
}

// -- issue 22: reviews, the class view and the files to take away ---------------------

/** The player's side of the same API, with the player's own token: their review. */
export class PlayerApi {
  constructor(config, auth) {
    this.http = new HostApi(config, auth);
  }

  /** The caller's missed and skipped questions so far: {played, correct, missed: [...], ...}. */
  review(sessionId) {
    return this.http.request("GET", `/sessions/${encodeURIComponent(sessionId)}/review`);
  }

  /** format: "apkg" (an Anki deck) or "csv" (word, meaning, example; no header). */
  reviewFile(sessionId, format) {
    const id = encodeURIComponent(sessionId);
    return fetchFile(this.http, `/sessions/${id}/review?format=${format}`, `missed-${sessionId}.${format}`);
  }
}

/**
 * A file the API sends as an attachment: {blob, filename}. A plain link cannot carry the
 * bearer token, so it is fetched; the name is the response's Content-Disposition one
 * (readable across origins only when the API exposes that header), else `fallbackName`.
 */
export async function fetchFile(http, path, fallbackName) {
  const response = await http.request("GET", path, undefined, { raw: true });
  const blob = await response.blob();
  return { blob, filename: attachmentName(response.headers.get("Content-Disposition")) || fallbackName };
}

/** The filename of a Content-Disposition header (RFC 6266: filename* first), without any path. */
export function attachmentName(header) {
  if (!header) return null;
  let name = null;
  const extended = /filename\*\s*=\s*[^']*'[^']*'([^;]+)/i.exec(header);
  if (extended) {
    try {
      name = decodeURIComponent(extended[1].trim());
    } catch {
      name = null;
    }
  }
  if (!name) {
    const plain = /filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))/i.exec(header);
    name = plain ? (plain[1] ?? plain[2]).replace(/\\(.)/g, "$1") : null;
  }
  const base = name?.split(/[\\/]/).pop().trim();
  return base || null;
}
