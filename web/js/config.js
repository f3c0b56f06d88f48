// The runtime config the gateway serves beside the pages (/config.json): where the host
// API and Firebase Auth live, and App Check's site key (empty: App Check off, as in local
// runs). Fetched once per page.

let loading = null;

export function loadConfig() {
  loading ??= fetch("/config.json", { cache: "no-store" }).then(async (response) => {
    if (!response.ok) throw new Error(`Could not load /config.json (HTTP ${response.status})`);
    const config = await response.json();
    return Object.freeze({
      apiUrl: String(config.api_url || "").replace(/\/+$/, ""),
      projectId: String(config.project_id || ""),
      firebaseApiKey: String(config.firebase_api_key || ""),
      authEmulatorUrl: String(config.auth_emulator_url || "").replace(/\/+$/, ""),
      firebaseAppId: String(config.firebase_app_id || ""),
      appCheckSiteKey: String(config.app_check_site_key || ""),
    });
  });
  return loading;
}

export function socketUrl() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}/ws`;
}
