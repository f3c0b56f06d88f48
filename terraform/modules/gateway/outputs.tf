output "name" {
  value       = google_cloud_run_v2_service.main.name
  description = "The Cloud Run service name."
}

output "uri" {
  value       = google_cloud_run_v2_service.main.uri
  description = "The service's URL as Cloud Run reports it."
}
