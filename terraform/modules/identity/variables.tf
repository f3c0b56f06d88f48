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
