output "urls" {
  value       = local.urls
  description = "Each function's run.app URL (also the OIDC audience its callers sign for), by entry point."
}

output "service_names" {
  value = merge(
    { for entry_point, function in google_cloudfunctions2_function.main : entry_point => function.name },
    { for entry_point, function in google_cloudfunctions2_function.public : entry_point => function.name },
  )
  description = "Each function's (and its Cloud Run service's) name, by entry point."
}

output "source_object" {
  value       = google_storage_bucket_object.source.name
  description = "The uploaded source zip's object name."
}
