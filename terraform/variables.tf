variable "project_id" {
  type        = string
  description = "The Google Cloud project to deploy into (one environment per project)."
}

variable "region" {
  type        = string
  description = "Region of Cloud Run, Cloud Functions, Cloud Tasks and Artifact Registry."
  default     = "us-central1"
}

variable "firestore_location" {
  type        = string
  description = "Firestore location; null uses the region. A multi-region (nam5, eur3) survives a regional outage at a higher price."
  default     = null
}

variable "gateway_image" {
  type        = string
  description = "Gateway image, e.g. us-central1-docker.pkg.dev/<project>/quiz/gateway:<git sha> (see docs/deploy.md)."
}

variable "functions_source_zip" {
  type        = string
  description = "Path of the functions zip built by `make package`; null means ../build/functions.zip beside this directory."
  default     = null
}

variable "labels" {
  type        = map(string)
  description = "Labels put on every resource that takes labels."
  default     = { app = "vocab-quiz" }
}

variable "extra_web_origins" {
  type        = list(string)
  description = "Further https:// origins serving the web client (a custom domain mapped to the gateway)."
  default     = []
}

variable "extra_authorized_domains" {
  type        = list(string)
  description = "Further domains authorized for Identity Platform sign-in redirects."
  default     = []
}

variable "app_check_enabled" {
  type        = bool
  description = "Firebase App Check with reCAPTCHA Enterprise for the web client: creates Firebase on the project, a Firebase web app, a score-based reCAPTCHA Enterprise key for the web origins and the app's App Check config, and has browsers attach App Check tokens. The servers check them only with app_check_enforced; turn this on one apply earlier so browsers already send tokens when enforcement starts (docs/deploy.md, App Check)."
  default     = false
}

variable "app_check_enforced" {
  type        = bool
  description = "Enforce Firebase App Check (reCAPTCHA Enterprise): the host API and the gateway refuse every request and socket without a valid App Check token (APP_CHECK_ENFORCED), so scripts that sign in anonymously without the served web client in a browser get nowhere. Implies app_check_enabled; turn that on one apply earlier. Off by default and in local runs (docs/deploy.md, App Check)."
  default     = false
}

variable "public_access" {
  type        = string
  description = "How browsers may reach the gateway and the host API, the two public services: \"allUsers\" grants them roles/run.invoker (the default), \"invoker_check_disabled\" turns Cloud Run's invoker IAM check off instead, for projects whose organisation policy (domain restricted sharing) forbids allUsers grants (docs/deploy.md)."
  default     = "allUsers"

  validation {
    condition     = contains(["allUsers", "invoker_check_disabled"], var.public_access)
    error_message = "public_access must be \"allUsers\" or \"invoker_check_disabled\"."
  }
}

variable "flush_queue_count" {
  type        = number
  description = "Leaderboard-flush queues (FLUSH_QUEUE_COUNT); each dispatches up to flush_max_dispatches_per_second."
  default     = 4
}

variable "flush_max_dispatches_per_second" {
  type        = number
  description = "Dispatch rate limit of each leaderboard-flush queue."
  default     = 500
}

variable "command_max_delivery_attempts" {
  type        = number
  description = "Deliveries of a command to on_command before it is dead-lettered (and then replayed until it succeeds)."
  default     = 100
}

variable "quiz_timing" {
  type = object({
    flush_window_ms    = optional(number)
    snapshot_window_ms = optional(number)
    reveal_pause_ms    = optional(number)
  })
  description = "Overrides of the game's timing (vocabquiz/service/config.py); flush_window_ms also paces leaderboards at the gateway (LEADERBOARD_GAP_MS). Unset keeps the code's defaults."
  default     = {}
}

variable "quiz_quotas" {
  type = object({
    sessions_per_user_per_day     = optional(number)
    quiz_uploads_per_user_per_day = optional(number)
    quiz_bytes                    = optional(number)
    quiz_questions                = optional(number)
  })
  description = "What one account may cost (vocabquiz/domain/quotas.py): sessions created and quizzes uploaded per user per UTC day, and the largest quiz file in bytes and questions. Unset keeps the code's defaults (50, 20, 262144, 100)."
  default     = {}
}

variable "function_min_instances" {
  type        = map(number)
  description = "Warm instances by function entry point, e.g. { on_command = 1 }; absent means 0."
  default     = {}
}

variable "function_max_instances" {
  type        = number
  description = "Instance cap of each function."
  default     = 100
}

variable "gateway_min_instances" {
  type        = number
  description = "Gateway instances kept running (billed while idle)."
  default     = 1
}

variable "gateway_max_instances" {
  type        = number
  description = "Gateway instance cap."
  default     = 20
}

variable "gateway_max_concurrency" {
  type        = number
  description = "Open sockets per gateway instance before Cloud Run adds one."
  default     = 1000
}

variable "gateway_limits" {
  type = object({
    max_frame_bytes          = optional(number)
    rate_per_s               = optional(number)
    rate_burst               = optional(number)
    max_connections_per_user = optional(number)
    send_buffer_limit_bytes  = optional(number)
    ping_interval_s          = optional(number)
  })
  description = "Overrides of the gateway's per-socket limits (gateway/config.py); unset keeps the code's defaults."
  default     = {}
}

variable "firestore_point_in_time_recovery" {
  type        = bool
  description = "Keep 7 days of Firestore versions for point-in-time recovery."
  default     = false
}

variable "deletion_protection" {
  type        = bool
  description = "Protect the database and the gateway from deletion (turn off only to tear an environment down)."
  default     = true
}

variable "alert_notification_channels" {
  type = object({
    critical = optional(list(string), [])
    warning  = optional(list(string), [])
  })
  description = "Cloud Monitoring notification channel ids paged by critical alerts and told of warnings (create the channels in the console; see docs/observability.md)."
  default     = {}
}

variable "alert_thresholds" {
  type = object({
    error_ratio_critical         = optional(number)
    error_ratio_warning          = optional(number)
    answer_latency_p99_ms        = optional(number)
    flush_lag_p99_ms             = optional(number)
    command_backlog_age_s        = optional(number)
    memory_utilization_ratio     = optional(number)
    gateway_sockets_per_instance = optional(number)
  })
  description = "Overrides of the alert thresholds (modules/monitoring); unset keeps the seed design's values."
  default     = {}
}

variable "trace_sample_ratio" {
  type        = number
  description = "Share of new traces recorded and exported to Cloud Trace (TRACE_SAMPLE_RATIO); trace ids reach the logs either way."
  default     = 0.1
}
