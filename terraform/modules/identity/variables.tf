variable "project_id" {
  type        = string
  description = "The project whose Identity Platform is configured."
}

variable "authorized_domains" {
  type        = list(string)
  description = "Domains (no scheme) allowed as sign-in redirect targets: the gateway's host and any custom domain."
}

variable "web_origins" {
  type        = list(string)
  description = "Origins (https://host) the web client is served from; the API key only works from these."
}

variable "autodelete_anonymous_users" {
  type        = bool
  description = "Let Identity Platform delete anonymous users after 30 days."
  default     = true
}

variable "api_key_name" {
  type        = string
  description = "Resource name of the browser API key (lowercase letters, digits, hyphens)."
  default     = "quiz-web"
}

variable "app_check" {
  type        = bool
  description = "Create what Firebase App Check with reCAPTCHA Enterprise needs for the web client (Firebase on the project, a Firebase web app, a score-based reCAPTCHA Enterprise key for the web origins, the app's App Check config). Whether the servers refuse requests without a token is decided elsewhere (APP_CHECK_ENFORCED)."
  default     = false
}

variable "app_check_token_ttl_s" {
  type        = number
  description = "How long an App Check token lasts; each new one costs a reCAPTCHA Enterprise assessment (Firebase allows 1800 to 604800)."
  default     = 3600

  validation {
    condition     = var.app_check_token_ttl_s >= 1800 && var.app_check_token_ttl_s <= 604800
    error_message = "Between 1800 (30 minutes) and 604800 (7 days)."
  }
}
