# What the system is doing, in Cloud Monitoring: log-based metrics counted from the
# functions' structured lines, the alert policies of the seed design's list, and the
# dashboard (dashboards/quiz-overview.json).
#
# The function-side metrics are log-based, not exported by an SDK: every answer and every
# flush already writes one JSON line (vocabquiz/service/game.py) carrying its trace, so counting
# those lines costs no extra write, no exporter thread in an instance whose CPU is
# throttled between requests, and no per-instance time series to keep under Cloud
# Monitoring's one-point-per-5-s limit. tests/observability holds the fields read here to
# the lines the code writes. The gateway's Prometheus metrics reach Cloud Monitoring
# through the Managed Service for Prometheus sidecar (modules/gateway).

locals {
  on_command_lines = join(" AND ", [
    "resource.type=\"cloud_run_revision\"",
    "resource.labels.service_name=\"${var.function_service_names["on_command"]}\"",
    "jsonPayload.message=\"answer scored\"",
  ])
  flush_lines = join(" AND ", [
    "resource.type=\"cloud_run_revision\"",
    "resource.labels.service_name=\"${var.function_service_names["flush_leaderboard"]}\"",
    "jsonPayload.message=\"leaderboard flushed\"",
  ])
  # Lines that follow a Cloud Task creation, from whichever function created it.
  task_lines = join(" AND ", [
    "resource.type=\"cloud_run_revision\"",
    "jsonPayload.task_kind:*",
    "jsonPayload.task_created:*",
  ])

  quiz_services = format(
    "resource.labels.service_name=one_of(%s)",
    join(",", [for name in concat(values(var.function_service_names), [var.gateway_service_name]) : "\"${name}\""]),
  )
  requests   = "metric.type=\"run.googleapis.com/request_count\" AND resource.type=\"cloud_run_revision\" AND ${local.quiz_services}"
  errors     = "${local.requests} AND metric.labels.response_code_class=\"5xx\""
  log_metric = "logging.googleapis.com/user"
}

# -- function-side metrics (log-based) ------------------------------------------------------

resource "google_logging_metric" "answers_scored" {
  project     = var.project_id
  name        = "quiz_answers_scored"
  description = "Answers scored for the first time (a redelivery's replay is not counted), by correctness."
  filter      = "${local.on_command_lines} AND jsonPayload.replayed=false"

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "INT64"
    unit         = "1"
    display_name = "Answers scored"

    labels {
      key         = "correct"
      value_type  = "STRING"
      description = "true or false: whether the answer was accepted."
    }
  }

  label_extractors = {
    correct = "EXTRACT(jsonPayload.correct)"
  }
}

resource "google_logging_metric" "answer_latency" {
  project         = var.project_id
  name            = "quiz_answer_latency"
  description     = "Gateway receive -> answer scored, its SCORE_UPDATED published and its flush requested (server clocks)."
  filter          = "${local.on_command_lines} AND jsonPayload.replayed=false"
  value_extractor = "EXTRACT(jsonPayload.latency_ms)"

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "DISTRIBUTION"
    unit         = "ms"
    display_name = "Answer latency"
  }

  bucket_options {
    exponential_buckets {
      num_finite_buckets = 40
      growth_factor      = 1.3
      scale              = 1
    }
  }
}

resource "google_logging_metric" "score_transaction_latency" {
  project         = var.project_id
  name            = "quiz_score_transaction_latency"
  description     = "Time in the Firestore transaction that scores an answer, retries included."
  filter          = local.on_command_lines
  value_extractor = "EXTRACT(jsonPayload.transaction_ms)"

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "DISTRIBUTION"
    unit         = "ms"
    display_name = "Score transaction latency"
  }

  bucket_options {
    exponential_buckets {
      num_finite_buckets = 40
      growth_factor      = 1.3
      scale              = 1
    }
  }
}

resource "google_logging_metric" "score_transaction_retries" {
  project     = var.project_id
  name        = "quiz_score_transaction_retries"
  description = "Answers whose scoring transaction Firestore aborted and the client ran again, by attempts taken."
  filter      = "${local.on_command_lines} AND jsonPayload.attempts>1"

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "INT64"
    unit         = "1"
    display_name = "Score transactions retried"

    labels {
      key         = "attempts"
      value_type  = "INT64"
      description = "Times the transaction ran."
    }
  }

  label_extractors = {
    attempts = "EXTRACT(jsonPayload.attempts)"
  }
}

resource "google_logging_metric" "leaderboard_flushes" {
  project     = var.project_id
  name        = "quiz_leaderboard_flushes"
  description = "Leaderboard flushes run: LEADERBOARD_UPDATED (snapshot=false) and the once-a-second Firestore copy (snapshot=true)."
  filter      = local.flush_lines

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "INT64"
    unit         = "1"
    display_name = "Leaderboard flushes"

    labels {
      key         = "snapshot"
      value_type  = "STRING"
      description = "true for the Firestore snapshot, false for a LEADERBOARD_UPDATED."
    }
  }

  label_extractors = {
    snapshot = "EXTRACT(jsonPayload.snapshot)"
  }
}

resource "google_logging_metric" "leaderboard_flush_lag" {
  project         = var.project_id
  name            = "quiz_leaderboard_flush_lag"
  description     = "How long after its 100 ms window closed a LEADERBOARD_UPDATED was published."
  filter          = "${local.flush_lines} AND jsonPayload.snapshot=false"
  value_extractor = "EXTRACT(jsonPayload.lag_ms)"

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "DISTRIBUTION"
    unit         = "ms"
    display_name = "Leaderboard flush lag"
  }

  bucket_options {
    exponential_buckets {
      num_finite_buckets = 40
      growth_factor      = 1.3
      scale              = 1
    }
  }
}

resource "google_logging_metric" "task_requests" {
  project     = var.project_id
  name        = "quiz_task_requests"
  description = "Named Cloud Task creations by kind; created=false is ALREADY_EXISTS (the window's task exists: batching at work)."
  filter      = local.task_lines

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "INT64"
    unit         = "1"
    display_name = "Task creation requests"

    labels {
      key         = "kind"
      value_type  = "STRING"
      description = "lb (leaderboard flush), snap (snapshot), open or close (question timers)."
    }
    labels {
      key         = "created"
      value_type  = "STRING"
      description = "true when created, false when Cloud Tasks answered ALREADY_EXISTS."
    }
  }

  label_extractors = {
    kind    = "EXTRACT(jsonPayload.task_kind)"
    created = "EXTRACT(jsonPayload.task_created)"
  }
}

# -- dashboard --------------------------------------------------------------------------

resource "google_monitoring_dashboard" "main" {
  project        = var.project_id
  dashboard_json = file(var.dashboard_file)

  # Its charts read these metrics; created first, they show data from the first deploy.
  depends_on = [
    google_logging_metric.answers_scored,
    google_logging_metric.answer_latency,
    google_logging_metric.score_transaction_latency,
    google_logging_metric.score_transaction_retries,
    google_logging_metric.leaderboard_flushes,
    google_logging_metric.leaderboard_flush_lag,
    google_logging_metric.task_requests,
  ]
}

# -- alert policies (seed design: critical pages, warnings notify) ----------------------------

# An alert policy on a log-based metric created in the same apply is refused with 404
# ("If a metric was created recently, it could take up to 10 minutes to become
# available"; terraform-provider-google issue 11102). The policies that read one take its
# name from this wait, so a first apply succeeds in one go; later applies do not wait
# unless a metric's name changes.
resource "time_sleep" "log_metrics_visible" {
  create_duration = "600s"

  triggers = {
    answer_latency        = google_logging_metric.answer_latency.name
    leaderboard_flush_lag = google_logging_metric.leaderboard_flush_lag.name
  }
}

resource "google_monitoring_alert_policy" "error_ratio_critical" {
  project               = var.project_id
  display_name          = "Quiz: error rate above ${var.thresholds.error_ratio_critical * 100} % for 5 minutes"
  combiner              = "OR"
  severity              = "CRITICAL"
  notification_channels = var.notification_channels.critical

  conditions {
    display_name = "5xx share of requests to the functions and the gateway"

    condition_threshold {
      filter             = local.errors
      denominator_filter = local.requests
      comparison         = "COMPARISON_GT"
      threshold_value    = var.thresholds.error_ratio_critical
      duration           = "300s"

      aggregations {
        alignment_period     = "60s"
        per_series_aligner   = "ALIGN_RATE"
        cross_series_reducer = "REDUCE_SUM"
      }

      denominator_aggregations {
        alignment_period     = "60s"
        per_series_aligner   = "ALIGN_RATE"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "Requests answered 5xx: on_command (Pub/Sub redelivers), the task handlers (Cloud Tasks retries) or the host API. Find the failing lines in Logs Explorer with `severity>=ERROR`, then follow one by its trace (docs/observability.md)."
  }
}

resource "google_monitoring_alert_policy" "error_ratio_warning" {
  project               = var.project_id
  display_name          = "Quiz: error rate above ${var.thresholds.error_ratio_warning * 100} % for 10 minutes"
  combiner              = "OR"
  severity              = "WARNING"
  notification_channels = var.notification_channels.warning

  conditions {
    display_name = "5xx share of requests to the functions and the gateway"

    condition_threshold {
      filter             = local.errors
      denominator_filter = local.requests
      comparison         = "COMPARISON_GT"
      threshold_value    = var.thresholds.error_ratio_warning
      duration           = "600s"

      aggregations {
        alignment_period     = "60s"
        per_series_aligner   = "ALIGN_RATE"
        cross_series_reducer = "REDUCE_SUM"
      }

      denominator_aggregations {
        alignment_period     = "60s"
        per_series_aligner   = "ALIGN_RATE"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "Early warning of the critical error-rate alert; see its notes."
  }
}

resource "google_monitoring_alert_policy" "answer_latency_p99" {
  project               = var.project_id
  display_name          = "Quiz: answer p99 latency above ${var.thresholds.answer_latency_p99_ms} ms for 5 minutes"
  combiner              = "OR"
  severity              = "CRITICAL"
  notification_channels = var.notification_channels.critical

  conditions {
    display_name = "p99 of gateway receive -> answer scored"

    condition_threshold {
      filter          = "metric.type=\"${local.log_metric}/${time_sleep.log_metrics_visible.triggers["answer_latency"]}\" AND resource.type=\"cloud_run_revision\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.thresholds.answer_latency_p99_ms
      duration        = "300s"

      aggregations {
        alignment_period     = "60s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_PERCENTILE_99"
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "Answers take too long from the gateway to their score. Check the score transaction latency and retries (contention), on_command instance counts (cold starts), and Pub/Sub push latency on the dashboard; a slow answer's trace shows which hop."
  }
}

resource "google_monitoring_alert_policy" "gateway_publish_p99" {
  project               = var.project_id
  display_name          = "Quiz: gateway publish p99 above ${var.thresholds.answer_latency_p99_ms} ms for 5 minutes"
  combiner              = "OR"
  severity              = "CRITICAL"
  notification_channels = var.notification_channels.critical

  conditions {
    display_name = "p99 of client frame received -> Pub/Sub confirmed (ACK)"

    condition_prometheus_query_language {
      query               = "histogram_quantile(0.99, sum by (le) (rate(quiz_gateway_publish_latency_seconds_bucket[5m]))) > ${var.thresholds.answer_latency_p99_ms / 1000}"
      duration            = "300s"
      evaluation_interval = "60s"
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "Players wait for their ACK: Pub/Sub publishes from the gateway are slow. Check gateway CPU and instance count, and Pub/Sub's publish latency."
  }
}

resource "google_monitoring_alert_policy" "flush_lag_p99" {
  project               = var.project_id
  display_name          = "Quiz: leaderboard p99 lag above ${var.thresholds.flush_lag_p99_ms} ms for 10 minutes"
  combiner              = "OR"
  severity              = "WARNING"
  notification_channels = var.notification_channels.warning

  conditions {
    display_name = "p99 of window closed -> LEADERBOARD_UPDATED published"

    condition_threshold {
      filter          = "metric.type=\"${local.log_metric}/${time_sleep.log_metrics_visible.triggers["leaderboard_flush_lag"]}\" AND resource.type=\"cloud_run_revision\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.thresholds.flush_lag_p99_ms
      duration        = "600s"

      aggregations {
        alignment_period     = "60s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_PERCENTILE_99"
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "Leaderboards arrive late. Check the flush queues' dispatch rate (500/s each; FLUSH_QUEUE_COUNT scales it) and flush_leaderboard instance counts."
  }
}

resource "google_monitoring_alert_policy" "command_backlog_age" {
  project               = var.project_id
  display_name          = "Quiz: oldest undelivered command older than ${var.thresholds.command_backlog_age_s / 60} minutes"
  combiner              = "OR"
  severity              = "WARNING"
  notification_channels = var.notification_channels.warning

  conditions {
    display_name = "Oldest unacknowledged message on the on_command push subscription"

    condition_threshold {
      filter          = "metric.type=\"pubsub.googleapis.com/subscription/oldest_unacked_message_age\" AND resource.type=\"pubsub_subscription\" AND resource.labels.subscription_id=\"${var.commands_subscription_name}\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.thresholds.command_backlog_age_s
      duration        = "60s"

      aggregations {
        alignment_period   = "60s"
        per_series_aligner = "ALIGN_MAX"
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "Commands wait in Pub/Sub: on_command is failing (it answers 5xx and Pub/Sub backs off) or cannot scale. Check the error-rate chart and on_command's logs."
  }
}

resource "google_monitoring_alert_policy" "dead_letters_waiting" {
  project               = var.project_id
  display_name          = "Quiz: commands dead-lettered and not yet scored"
  combiner              = "OR"
  severity              = "CRITICAL"
  notification_channels = var.notification_channels.critical

  conditions {
    display_name = "Undelivered messages on the dead letters' replay subscription"

    condition_threshold {
      filter          = "metric.type=\"pubsub.googleapis.com/subscription/num_undelivered_messages\" AND resource.type=\"pubsub_subscription\" AND resource.labels.subscription_id=\"${var.dead_letter_subscription_name}\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "60s"

      aggregations {
        alignment_period   = "60s"
        per_series_aligner = "ALIGN_MAX"
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "Commands failed on_command 100 times (about 48 minutes) and were dead-lettered; players were told their answers were received. The replay subscription pushes them to on_command again, backing off to 10 minutes, until they succeed: find what fails in on_command's logs (a Firestore outage, a bad deploy) and fix it, and the backlog drains by itself (docs/deploy.md)."
  }
}

resource "google_monitoring_alert_policy" "memory_utilization" {
  project               = var.project_id
  display_name          = "Quiz: container memory above ${var.thresholds.memory_utilization_ratio * 100} %"
  combiner              = "OR"
  severity              = "WARNING"
  notification_channels = var.notification_channels.warning

  conditions {
    display_name = "p99 memory utilization of the functions' and the gateway's containers"

    condition_threshold {
      filter          = "metric.type=\"run.googleapis.com/container/memory/utilizations\" AND resource.type=\"cloud_run_revision\" AND ${local.quiz_services}"
      comparison      = "COMPARISON_GT"
      threshold_value = var.thresholds.memory_utilization_ratio
      duration        = "300s"

      aggregations {
        alignment_period     = "60s"
        per_series_aligner   = "ALIGN_PERCENTILE_99"
        cross_series_reducer = "REDUCE_MAX"
        group_by_fields      = ["resource.labels.service_name"]
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "A service runs close to its memory limit: the gateway holds ~16 KiB per socket (raise its memory or lower max_concurrency); a function's standings copy grows with sessions per instance."
  }
}

resource "google_monitoring_alert_policy" "gateway_sockets" {
  project               = var.project_id
  display_name          = "Quiz: more than ${var.thresholds.gateway_sockets_per_instance} sockets on one gateway instance"
  combiner              = "OR"
  severity              = "WARNING"
  notification_channels = var.notification_channels.warning

  conditions {
    display_name = "Open WebSockets per gateway instance"

    condition_prometheus_query_language {
      query               = "max(quiz_gateway_connections) > ${var.thresholds.gateway_sockets_per_instance}"
      duration            = "300s"
      evaluation_interval = "60s"
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "An instance holds more sockets than planned: check max_concurrency and max_instances of the gateway (Cloud Run spreads sockets only across instances it may start)."
  }
}
