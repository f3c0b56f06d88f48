// Anonymous Firebase sign-in through the Firebase JS SDK (web/vendor/firebase.js): the
// library keeps the user in localStorage (a reload keeps the uid) and refreshes the ID
// token. In the cloud it also attests the page with App Check (reCAPTCHA Enterprise).

import {
  browserLocalPersistence,
  connectAuthEmulator,
  getToken,
  initializeApp,
  initializeAppCheck,
  initializeAuth,
  ReCaptchaEnterpriseProvider,
  signInAnonymously,
} from "../vendor/firebase.js";

// reCAPTCHA can be blocked (an extension, a firewall): past this wait the request goes
// without an App Check token and the server decides (refused only when it enforces).
const APP_CHECK_WAIT_MS = 10_000;

export class Auth {
  /**
   * `role` ("host" or "player") names the Firebase app, and so the user it persists: a
   * host tab and a player tab in one browser are two users.
   */
  constructor(config, role) {
    const app = initializeApp(
      { apiKey: config.firebaseApiKey, projectId: config.projectId, appId: config.firebaseAppId || undefined },
      role,
    );
    // Before Auth: Auth then sends the App Check token on its own calls too.
    this.appCheck = config.appCheckSiteKey
      ? initializeAppCheck(app, {
          provider: new ReCaptchaEnterpriseProvider(config.appCheckSiteKey),
          isTokenAutoRefreshEnabled: true,
        })
      : null;
    this.auth = initializeAuth(app, { persistence: browserLocalPersistence });
    if (config.authEmulatorUrl) connectAuthEmulator(this.auth, config.authEmulatorUrl, { disableWarnings: true });
    this.signingIn = null;
  }

  /** The signed-in user's id (known once idToken() has answered), or null. */
  get uid() {
    return this.auth.currentUser?.uid ?? null;
  }

  /** A valid ID token (refreshed by the SDK near its expiry); the first call signs in. */
  async idToken() {
    try {
      await this.auth.authStateReady();
      const user = this.auth.currentUser;
      if (user) {
        try {
          return await user.getIdToken();
        } catch (error) {
          // The SDK signs out a user whose refresh token is dead (the emulator restarted,
          // the user was deleted): become a new one. Anything else (offline) is retried later.
          if (this.auth.currentUser) throw error;
        }
      }
      // One sign-up even when the page asks for tokens twice at once.
      this.signingIn ??= signInAnonymously(this.auth).finally(() => {
        this.signingIn = null;
      });
      return await (await this.signingIn).user.getIdToken();
    } catch (error) {
      throw new Error("Could not sign in. Check your connection and try again.", { cause: error });
    }
  }

  /** The App Check token to send beside the ID token; null when App Check is off or failed. */
  async appCheckToken() {
    if (!this.appCheck) return null;
    let timer;
    const timeout = new Promise((resolve) => {
      timer = setTimeout(() => resolve(null), APP_CHECK_WAIT_MS);
    });
    try {
      const result = await Promise.race([getToken(this.appCheck), timeout]);
      return result?.token ?? null;
    } catch (error) {
      console.warn("App Check token unavailable", error);
      return null;
    } finally {
      clearTimeout(timer);
    }
  }
}
