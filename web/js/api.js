// The host HTTP API (vocabquiz/service/api.py) with the signed-in host's bearer token.
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

  async request(method, path, body, { raw = false } = {}) {
    const headers = { Authorization: `Bearer ${await this.auth.idToken()}` };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(`${this.base}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
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

  listQuizzes() {
    return this.request("GET", "/quizzes");
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
