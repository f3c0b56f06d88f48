output "web_api_key" {
  value       = google_apikeys_key.web.key_string
  description = "The browser API key (public by design, but kept out of plain plan output)."
  sensitive   = true
}

output "authorized_domains" {
  value       = google_identity_platform_config.main.authorized_domains
  description = "Domains authorized for sign-in."
}

output "firebase_app_id" {
  value       = var.app_check ? google_firebase_web_app.main[0].app_id : ""
  description = "The web client's Firebase app id (FIREBASE_APP_ID); \"\" without App Check."
}

output "app_check_site_key" {
  # Read from the App Check config, so nobody is handed the key before App Check accepts it.
  value       = var.app_check ? google_firebase_app_check_recaptcha_enterprise_config.web[0].site_key : ""
  description = "The reCAPTCHA Enterprise site key browsers get App Check tokens with (APP_CHECK_SITE_KEY; public by design); \"\" without App Check."
}
