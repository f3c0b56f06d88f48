output "gateway_email" {
  value       = google_service_account.gateway.email
  description = "Service account the gateway runs as."
}

output "functions_email" {
  value       = google_service_account.functions.email
  description = "Service account the functions run as."
}

output "functions_build_id" {
  value       = time_sleep.build_grants_settle.triggers["build_service_account_id"]
  description = "Full id of the account Cloud Build builds the functions as."
}

output "tasks_invoker_email" {
  value       = google_service_account.tasks_invoker.email
  description = "Account whose OIDC token Cloud Tasks attaches (TASKS_SERVICE_ACCOUNT); invokes the two task targets."
}

output "pubsub_push_email" {
  value       = google_service_account.pubsub_push.email
  description = "Account whose OIDC token Pub/Sub attaches to pushes; invokes on_command."
}
