// The host HTTP API (vocabquiz/service/api.py) with the signed-in host's bearer token
// (and App Check token, when App Check is on).
// Refusals arrive as {error: {code, message}} and are thrown as ApiError.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
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
    let response;
    try {
      response = await fetch(`${this.base}${path}`, {
        method,
        headers,
        body: text ?? (body === undefined ? undefined : JSON.stringify(body)),
      });
    } catch {
      throw new ApiError(0, "UNAVAILABLE", "Cannot reach the quiz API. Check your connection and try again.");
    }
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

  async resultsCsv(sessionId) {
    const path = `/sessions/${encodeURIComponent(sessionId)}/results?format=csv`;
    const response = await this.request("GET", path, undefined, { raw: true });
    return response.blob();
  }
}
