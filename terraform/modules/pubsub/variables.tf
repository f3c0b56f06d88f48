variable "project_id" {
  type        = string
  description = "The project holding the topics and subscriptions."
}

variable "commands_topic" {
  type        = string
  description = "Topic the gateway publishes player commands to (COMMANDS_TOPIC)."
}

variable "events_topic" {
  type        = string
  description = "Topic the functions publish events to and every gateway instance subscribes to (EVENTS_TOPIC)."
}

variable "on_command_url" {
  type        = string
  description = "The on_command function's run.app URL: the push endpoint and the OIDC token's audience (Cloud Run admits Pub/Sub push to an internal-only service only there)."
}

variable "push_service_account_email" {
  type        = string
  description = "Service account whose OIDC token Pub/Sub attaches to each push (must be allowed to invoke on_command)."
}

variable "pubsub_service_agent_email" {
  type        = string
  description = "The project's Pub/Sub service agent, which performs dead-lettering."
}

variable "ack_deadline_s" {
  type        = number
  description = "How long Pub/Sub waits for on_command to answer a push before redelivering (at least the function timeout)."
  default     = 60
}

variable "command_retention_s" {
  type        = number
  description = "How long an undelivered command is kept (600 is Pub/Sub's minimum)."
  default     = 600
}

variable "minimum_backoff_s" {
  type        = number
  description = "Shortest wait before redelivering a command the function failed."
  default     = 1
}

variable "maximum_backoff_s" {
  type        = number
  description = "Longest wait before redelivering a command the function failed."
  default     = 30
}

variable "max_delivery_attempts" {
  type        = number
  description = "Deliveries of one command before it moves to the dead-letter topic (5 to 100; 100 rides out about 48 minutes of failures at the default backoffs)."
  default     = 100

  validation {
    condition     = var.max_delivery_attempts >= 5 && var.max_delivery_attempts <= 100
    error_message = "Pub/Sub allows 5 to 100 delivery attempts."
  }
}

variable "dead_letter_retention_s" {
  type        = number
  description = "How long a dead-lettered command is kept and retried (7 days at most)."
  default     = 604800
}

variable "dead_letter_minimum_backoff_s" {
  type        = number
  description = "Shortest wait before pushing a dead-lettered command to on_command again."
  default     = 10
}

variable "dead_letter_maximum_backoff_s" {
  type        = number
  description = "Longest wait before pushing a dead-lettered command to on_command again (600 at most)."
  default     = 600

  validation {
    condition     = var.dead_letter_maximum_backoff_s <= 600
    error_message = "Pub/Sub allows a maximum backoff of 600 seconds."
  }
}
