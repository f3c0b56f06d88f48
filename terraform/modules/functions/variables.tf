variable "project_id" {
  type        = string
  description = "The project the functions run in (GOOGLE_CLOUD_PROJECT)."
}

variable "region" {
  type        = string
  description = "Region of the functions."
}

variable "project_number" {
  type        = string
  description = "The project's number, part of each function's deterministic run.app URL (https://<name>-<number>.<region>.run.app)."
}

variable "name_prefix" {
  type        = string
  description = "Function names are <prefix>-<entry point with hyphens>, e.g. quiz-on-command."
  default     = "quiz"
}

variable "runtime" {
  type        = string
  description = "Cloud Functions runtime; the Python the code is tested with."
  default     = "python311"
}

variable "source_zip_path" {
  type        = string
  description = "Path of the zip holding functions/* (main.py, requirements.txt) at its root and the vocabquiz/ package (make package)."
}

variable "source_bucket" {
  type        = string
  description = "Bucket the zip is uploaded to."
}

variable "docker_repository_id" {
  type        = string
  description = "Artifact Registry repository (full id) the builds push their images to."
}

variable "build_service_account_id" {
  type        = string
  description = "Service account Cloud Build runs the builds as (full id: projects/<p>/serviceAccounts/<email>)."
}

variable "service_account_email" {
  type        = string
  description = "Service account the functions run as."
}

variable "tasks_service_account_email" {
  type        = string
  description = "Service account whose OIDC token Cloud Tasks attaches to flush and timer tasks (TASKS_SERVICE_ACCOUNT)."
}

variable "events_topic" {
  type        = string
  description = "Topic the functions publish events to (EVENTS_TOPIC)."
}

variable "tasks_location" {
  type        = string
  description = "Location of the Cloud Tasks queues (TASKS_LOCATION)."
}

variable "timer_queue" {
  type        = string
  description = "Queue of question timers (TIMER_QUEUE)."
}

variable "flush_queue_prefix" {
  type        = string
  description = "Prefix of the leaderboard-flush queues (FLUSH_QUEUE_PREFIX)."
}

variable "flush_queue_count" {
  type        = number
  description = "Number of leaderboard-flush queues (FLUSH_QUEUE_COUNT); must match the tasks module."
}

variable "api_allowed_origins" {
  type        = list(string)
  description = "Browser origins allowed to call sessions_api (API_ALLOWED_ORIGINS): the web client's."
}

variable "timing" {
  type = object({
    flush_window_ms    = optional(number)
    snapshot_window_ms = optional(number)
    reveal_pause_ms    = optional(number)
  })
  description = "Overrides of the game's timing (FLUSH_WINDOW_MS, SNAPSHOT_WINDOW_MS, REVEAL_PAUSE_MS); null keeps the code's default."
  default     = {}
}

variable "quotas" {
  type = object({
    sessions_per_user_per_day     = optional(number)
    quiz_uploads_per_user_per_day = optional(number)
    quiz_bytes                    = optional(number)
    quiz_questions                = optional(number)
  })
  description = "Overrides of what one account may cost (MAX_SESSIONS_PER_USER_PER_DAY, MAX_QUIZ_UPLOADS_PER_USER_PER_DAY, MAX_QUIZ_BYTES, MAX_QUIZ_QUESTIONS); null keeps the code's default."
  default     = {}
}

variable "app_check_enforced" {
  type        = bool
  description = "The host API refuses a request without a valid Firebase App Check token (APP_CHECK_ENFORCED); the web client must be attaching them first."
  default     = false
}

variable "trace_sample_ratio" {
  type        = number
  description = "Share of new traces recorded and exported to Cloud Trace (TRACE_SAMPLE_RATIO); trace ids reach the logs either way."
  default     = 0.1
}

variable "invokers" {
  type        = map(map(string))
  description = "IAM members allowed to invoke each function: entry point => { label => member }, e.g. { on_command = { pubsub_push = \"serviceAccount:...\" } }."
  default     = {}
}

variable "public_invoker_check" {
  type        = bool
  description = "Keep Cloud Run's invoker IAM check on the browser-facing function (callers then need an invoker grant, e.g. allUsers). False turns it off after each deploy of that function with gcloud, which terraform cannot set on a function (provider issue 23360)."
  default     = true
}

variable "private_ingress" {
  type        = string
  description = "Ingress of the functions only Pub/Sub and Cloud Tasks call (same-project Pub/Sub and Cloud Tasks count as internal when they call the run.app URL)."
  default     = "ALLOW_INTERNAL_ONLY"

  validation {
    condition     = contains(["ALLOW_INTERNAL_ONLY", "ALLOW_INTERNAL_AND_GCLB"], var.private_ingress)
    error_message = "One of ALLOW_INTERNAL_ONLY, ALLOW_INTERNAL_AND_GCLB."
  }
}

variable "cpu" {
  type        = string
  description = "vCPUs per function instance (a concurrency above 1 needs at least 1)."
  default     = "1"
}

variable "memory" {
  type        = string
  description = "Memory per function instance."
  default     = "512Mi"
}

variable "timeout_s" {
  type        = number
  description = "Request timeout of every function."
  default     = 60
}

variable "min_instances" {
  type        = map(number)
  description = "Warm instances by entry point (absent: 0), e.g. { on_command = 1 } against cold starts."
  default     = {}
}

variable "max_instances" {
  type        = number
  description = "Instance cap of each function."
  default     = 100
}

variable "max_concurrency" {
  type        = number
  description = "Requests one instance serves at once (functions-framework runs 4 threads per vCPU)."
  default     = 4
}
