# Cloud Tasks queues. Task names carry the batching (one flush per session and window)
# and the timers' de-duplication, so the queues only bound rate and retries.

resource "google_cloud_tasks_queue" "timers" {
  project  = var.project_id
  location = var.location
  name     = var.timer_queue

  rate_limits {
    max_dispatches_per_second = var.timer_max_dispatches_per_second
    max_concurrent_dispatches = var.timer_max_concurrent_dispatches
  }

  # A lost timer stalls a quiz: keep trying for minutes. A retry after the game moved on
  # is refused by the game (the question index no longer matches) and acknowledged.
  retry_config {
    max_attempts       = -1
    max_retry_duration = "${var.timer_retry_window_s}s"
    min_backoff        = "0.5s"
    max_backoff        = "10s"
    max_doublings      = 4
  }

  stackdriver_logging_config {
    sampling_ratio = var.log_sampling_ratio
  }
}

# Sharded by a stable hash of the session id (vocabquiz/adapters/tasks.py), so one busy
# session cannot use up another's dispatch rate.
resource "google_cloud_tasks_queue" "flush" {
  count = var.flush_queue_count

  project  = var.project_id
  location = var.location
  name     = "${var.flush_queue_prefix}-${count.index}"

  rate_limits {
    max_dispatches_per_second = var.flush_max_dispatches_per_second
    max_concurrent_dispatches = var.flush_max_concurrent_dispatches
  }

  # A flush superseded by the next window's is worthless: retry quickly, briefly.
  retry_config {
    max_attempts       = 5
    max_retry_duration = "${var.flush_retry_window_s}s"
    min_backoff        = "0.1s"
    max_backoff        = "2s"
    max_doublings      = 3
  }

  stackdriver_logging_config {
    sampling_ratio = var.log_sampling_ratio
  }
}
