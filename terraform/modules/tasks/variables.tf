variable "project_id" {
  type        = string
  description = "The project holding the queues."
}

variable "location" {
  type        = string
  description = "Cloud Tasks location of every queue (TASKS_LOCATION)."
}

variable "timer_queue" {
  type        = string
  description = "Name of the question-timer queue (TIMER_QUEUE)."
}

variable "flush_queue_prefix" {
  type        = string
  description = "Leaderboard-flush queues are named <prefix>-0 .. <prefix>-<count - 1> (FLUSH_QUEUE_PREFIX)."
}

variable "flush_queue_count" {
  type        = number
  description = "Number of leaderboard-flush queues (FLUSH_QUEUE_COUNT)."

  validation {
    condition     = var.flush_queue_count >= 1
    error_message = "At least one flush queue is needed."
  }
}

variable "flush_max_dispatches_per_second" {
  type        = number
  description = "Dispatch rate limit of each flush queue (Cloud Tasks allows up to 500)."
  default     = 500
}

variable "flush_max_concurrent_dispatches" {
  type        = number
  description = "Flushes of one queue in flight at once."
  default     = 1000
}

variable "flush_retry_window_s" {
  type        = number
  description = "How long a failed flush is retried before it is dropped."
  default     = 30
}

variable "timer_max_dispatches_per_second" {
  type        = number
  description = "Dispatch rate limit of the timer queue."
  default     = 500
}

variable "timer_max_concurrent_dispatches" {
  type        = number
  description = "Timers in flight at once."
  default     = 1000
}

variable "timer_retry_window_s" {
  type        = number
  description = "How long a failed timer is retried before it is dropped."
  default     = 600
}

variable "log_sampling_ratio" {
  type        = number
  description = "Fraction of task operations logged to Cloud Logging (0 to 1)."
  default     = 0.01
}
