output "urls" {
  value       = local.urls
  description = "Each function's run.app URL (also the OIDC audience its callers sign for), by entry point; known only once the function is built and admits its callers."

  # The URLs are built, not read from the functions, so nothing would order a caller
  # (a push subscription, the gateway) after the function it calls: a caller that takes a
  # URL from here waits for every function and every invoker grant.
  depends_on = [
    google_cloudfunctions2_function.main,
    google_cloudfunctions2_function.public,
    google_cloud_run_v2_service_iam_member.invoker,
  ]
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
