variable "project_id" {
  type        = string
  description = "The project the gateway runs in (GOOGLE_CLOUD_PROJECT)."
}

variable "region" {
  type        = string
  description = "Region of the Cloud Run service."
}

variable "name" {
  type        = string
  description = "Cloud Run service name; part of its URL."
}

variable "image" {
  type        = string
  description = "Gateway image, built with `docker build -f gateway/Dockerfile .` and pushed to Artifact Registry."
}

variable "service_account_email" {
  type        = string
  description = "Service account the gateway runs as."
}

variable "commands_topic" {
  type        = string
  description = "Topic player commands are published to (COMMANDS_TOPIC)."
}

variable "events_topic" {
  type        = string
  description = "Topic each instance subscribes to (EVENTS_TOPIC)."
}

variable "allowed_origins" {
  type        = list(string)
  description = "Browser origins allowed to open a socket (ALLOWED_ORIGINS): the web client's."
}

variable "public_api_url" {
  type        = string
  description = "sessions_api URL handed to the web client in /config.json (PUBLIC_API_URL)."
}

variable "firebase_web_api_key" {
  type        = string
  description = "Browser API key for Identity Platform sign-in, handed to the web client in /config.json (FIREBASE_WEB_API_KEY); public by design, restricted to the web origins."
}

variable "firebase_app_id" {
  type        = string
  description = "The Firebase web app's id, handed to the web client in /config.json (FIREBASE_APP_ID); App Check needs it."
  default     = ""
}

variable "app_check_site_key" {
  type        = string
  description = "reCAPTCHA Enterprise site key the web client gets App Check tokens with, in /config.json (APP_CHECK_SITE_KEY); empty: App Check off in the browser."
  default     = ""
}

variable "app_check_enforced" {
  type        = bool
  description = "Refuse a socket handshake without a valid App Check token (APP_CHECK_ENFORCED); needs firebase_app_id and app_check_site_key."
  default     = false
}

variable "limits" {
  type = object({
    max_frame_bytes          = optional(number)
    rate_per_s               = optional(number)
    rate_burst               = optional(number)
    max_connections_per_user = optional(number)
    send_buffer_limit_bytes  = optional(number)
    ping_interval_s          = optional(number)
  })
  description = "Overrides of the per-socket limits (MAX_FRAME_BYTES, RATE_PER_S, ...); null keeps the code's default."
  default     = {}
}

variable "leaderboard_gap_ms" {
  type        = number
  description = "Least time between two leaderboards sent to one session's sockets (LEADERBOARD_GAP_MS); the functions' flush window. Null keeps the code's default."
  default     = null
}

variable "command_batch_gap_ms" {
  type        = number
  description = "Least time between two command batches one session's sockets send to Pub/Sub (COMMAND_BATCH_GAP_MS; a quiet session's go at once). Null keeps the code's default."
  default     = null
}

variable "invokers" {
  type        = map(string)
  description = "IAM members allowed to reach the service, by label; allUsers for a public quiz."
  default     = { public = "allUsers" }
}

variable "invoker_iam_disabled" {
  type        = bool
  description = "Turn Cloud Run's invoker IAM check off: the service is public without an allUsers grant (for organisation policies that forbid those)."
  default     = false
}

variable "min_instances" {
  type        = number
  description = "Instances kept running (0 lets it scale to zero at the cost of a cold start)."
  default     = 1
}

variable "max_instances" {
  type        = number
  description = "Instance cap."
  default     = 20
}

variable "max_concurrency" {
  type        = number
  description = "Open sockets (requests) one instance accepts before Cloud Run starts another."
  default     = 1000
}

variable "request_timeout_s" {
  type        = number
  description = "Longest a socket stays open (Cloud Run's maximum is 3600)."
  default     = 3600

  validation {
    condition     = var.request_timeout_s > 0 && var.request_timeout_s <= 3600
    error_message = "Cloud Run allows 1 to 3600 seconds."
  }
}

variable "cpu" {
  type        = string
  description = "vCPUs per instance."
  default     = "1"
}

variable "memory" {
  type        = string
  description = "Memory per instance."
  default     = "512Mi"
}

variable "cpu_always_allocated" {
  type        = bool
  description = "Keep CPU allocated between requests (instance-based billing), so the events stream is pulled promptly."
  default     = true
}

variable "deletion_protection" {
  type        = bool
  description = "Refuse to destroy the service from terraform."
  default     = true
}

variable "prometheus_sidecar_image" {
  type        = string
  description = "The Managed Service for Prometheus sidecar that scrapes the gateway's /metrics over localhost into Cloud Monitoring (pin a released tag)."
  default     = "us-docker.pkg.dev/cloud-ops-agents-artifacts/cloud-run-gmp-sidecar/cloud-run-gmp-sidecar:1.2.0"
}

variable "trace_sample_ratio" {
  type        = number
  description = "Share of new traces recorded and exported to Cloud Trace (TRACE_SAMPLE_RATIO); trace ids reach the logs either way."
  default     = 0.1
}
