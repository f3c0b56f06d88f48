output "services" {
  value       = [for service in google_project_service.main : service.service]
  description = "The enabled API service names."
}

output "pubsub_service_agent_email" {
  value       = google_project_service_identity.pubsub.email
  description = "The Pub/Sub service agent (service-<number>@gcp-sa-pubsub.iam.gserviceaccount.com)."
}
