// Anonymous Firebase sign-in over the Identity Toolkit REST API (the Firebase JS SDK is
// not available offline, and anonymous sign-in plus refresh is two small calls). The
// refresh token is kept in localStorage so a reload keeps the same uid.

const RENEW_BEFORE_EXPIRY_MS = 5 * 60 * 1000;
// Refresh answers that mean "this refresh token will never work again": start over.
const DEAD_TOKEN_ERRORS = ["TOKEN_EXPIRED", "USER_DISABLED", "USER_NOT_FOUND", "INVALID_REFRESH_TOKEN"];

export class AuthError extends Error {
  constructor(message, { permanent = false } = {}) {
    super(message);
    this.permanent = permanent;
  }
}

export class Auth {
  /** `storageKey` separates roles: a host tab and a player tab in one browser are two users. */
  constructor(config, storageKey) {
    this.config = config;
    this.storageKey = storageKey;
    this.saved = readJson(storageKey);
    this.renewing = null;
  }

  get uid() {
    return this.saved?.uid ?? null;
  }

  /** A valid ID token: the saved one, a refreshed one, or a new anonymous user's. */
  async idToken() {
    const saved = this.saved;
    if (saved?.idToken && saved.expiresAtMs - RENEW_BEFORE_EXPIRY_MS > Date.now()) return saved.idToken;
    this.renewing ??= this.renew().finally(() => {
      this.renewing = null;
    });
    return this.renewing;
  }

  async renew() {
    if (this.saved?.refreshToken) {
      try {
        return await this.refresh(this.saved.refreshToken);
      } catch (error) {
        if (!error.permanent) throw error;
        // The old user is gone (e.g. the emulator restarted): become a new one.
      }
    }
    return this.signUp();
  }

  async signUp() {
    const body = await postJson(
      `${this.identityToolkit()}/v1/accounts:signUp?key=${encodeURIComponent(this.config.firebaseApiKey)}`,
      { returnSecureToken: true },
    );
    return this.store(body.localId, body.idToken, body.refreshToken, body.expiresIn);
  }

  async refresh(refreshToken) {
    const url = `${this.secureToken()}/v1/token?key=${encodeURIComponent(this.config.firebaseApiKey)}`;
    const form = new URLSearchParams({ grant_type: "refresh_token", refresh_token: refreshToken });
    const body = await postForm(url, form);
    return this.store(body.user_id, body.id_token, body.refresh_token, body.expires_in);
  }

  store(uid, idToken, refreshToken, expiresInS) {
    this.saved = {
      uid,
      idToken,
      refreshToken,
      expiresAtMs: Date.now() + Number(expiresInS || 3600) * 1000,
    };
    localStorage.setItem(this.storageKey, JSON.stringify(this.saved));
    return idToken;
  }

  identityToolkit() {
    const emulator = this.config.authEmulatorUrl;
    return emulator ? `${emulator}/identitytoolkit.googleapis.com` : "https://identitytoolkit.googleapis.com";
  }

  secureToken() {
    const emulator = this.config.authEmulatorUrl;
    return emulator ? `${emulator}/securetoken.googleapis.com` : "https://securetoken.googleapis.com";
  }
}

async function postJson(url, data) {
  return send(url, { "Content-Type": "application/json" }, JSON.stringify(data));
}

async function postForm(url, form) {
  return send(url, { "Content-Type": "application/x-www-form-urlencoded" }, form.toString());
}

async function send(url, headers, body) {
  let response;
  try {
    response = await fetch(url, { method: "POST", headers, body });
  } catch {
    throw new AuthError("Cannot reach the sign-in service");
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const reason = String(data?.error?.message || `HTTP ${response.status}`);
    const permanent = DEAD_TOKEN_ERRORS.some((code) => reason.startsWith(code));
    throw new AuthError(`Sign-in failed: ${reason}`, { permanent });
  }
  return data;
}

export function readJson(key) {
  try {
    return JSON.parse(localStorage.getItem(key) || "null");
  } catch {
    return null;
  }
}
