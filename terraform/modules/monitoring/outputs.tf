output "log_metric_types" {
  value = {
    for metric in [
      google_logging_metric.answers_scored,
      google_logging_metric.answer_latency,
      google_logging_metric.score_transaction_latency,
      google_logging_metric.score_transaction_retries,
      google_logging_metric.leaderboard_flushes,
      google_logging_metric.leaderboard_flush_lag,
      google_logging_metric.task_requests,
    ] : metric.name => "${local.log_metric}/${metric.name}"
  }
  description = "The metric type of each log-based metric, by name (what charts and alerts filter on)."
}

output "dashboard_id" {
  value       = google_monitoring_dashboard.main.id
  description = "The dashboard's id; open it under Monitoring > Dashboards."
}
