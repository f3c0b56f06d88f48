variable "project_id" {
  type        = string
  description = "The project whose logs, metrics and alerts these are."
}

variable "function_service_names" {
  type        = map(string)
  description = "Each function's Cloud Run service name, by entry point (the functions module's service_names)."
}

variable "gateway_service_name" {
  type        = string
  description = "The gateway's Cloud Run service name."
}

variable "commands_subscription_name" {
  type        = string
  description = "The push subscription delivering commands to on_command (its backlog age is alerted on)."
}

variable "dead_letter_subscription_name" {
  type        = string
  description = "The subscription replaying dead-lettered commands to on_command (any message waiting there is alerted on)."
}

variable "dashboard_file" {
  type        = string
  description = "Path of the Cloud Monitoring dashboard JSON (dashboards/quiz-overview.json)."
}

variable "notification_channels" {
  type = object({
    critical = optional(list(string), [])
    warning  = optional(list(string), [])
  })
  description = "Notification channel ids (projects/<p>/notificationChannels/<id>) paged for critical alerts and told of warnings; empty lists still open incidents in the console."
  default     = {}
}

variable "thresholds" {
  type = object({
    error_ratio_critical         = optional(number, 0.01)
    error_ratio_warning          = optional(number, 0.005)
    answer_latency_p99_ms        = optional(number, 500)
    flush_lag_p99_ms             = optional(number, 500)
    command_backlog_age_s        = optional(number, 300)
    memory_utilization_ratio     = optional(number, 0.8)
    gateway_sockets_per_instance = optional(number, 8000)
  })
  description = "Alert thresholds; the defaults are the seed design's list (error rate 1 % / 0.5 %, p99 500 ms, message age 5 min, memory 80 %, 8,000 connections per instance)."
  default     = {}
}
