output "web_api_key" {
  value       = google_apikeys_key.web.key_string
  description = "The browser API key (public by design, but kept out of plain plan output)."
  sensitive   = true
}

output "authorized_domains" {
  value       = google_identity_platform_config.main.authorized_domains
  description = "Domains authorized for sign-in."
}
