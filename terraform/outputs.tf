output "web_url" {
  value       = "https://${local.gateway_host}/"
  description = "The web client, served by the gateway on the same origin as its socket."
}

output "wss_url" {
  value       = "wss://${local.gateway_host}/ws"
  description = "The players' WebSocket endpoint."
}

output "api_url" {
  value       = module.functions.urls["sessions_api"]
  description = "The host HTTP API (sessions_api), e.g. <api_url>/api/v1/quizzes."
}

output "gateway_service_uri" {
  value       = module.gateway.uri
  description = "The gateway's URL as Cloud Run reports it; browsers should use web_url (the origin the gateway allows)."
}

output "docker_repository_url" {
  value       = module.registry.docker_url
  description = "Where to push the gateway image: <docker_repository_url>/gateway:<tag>."
}

output "functions_source_bucket" {
  value       = module.registry.source_bucket
  description = "Bucket the functions' source zip is uploaded to."
}

output "function_urls" {
  value       = module.functions.urls
  description = "Every function's URL by entry point."
}

output "dead_letter_subscription" {
  value       = module.pubsub.dead_letter_subscription_name
  description = "Push subscription replaying dead-lettered commands to on_command until they succeed."
}

output "service_accounts" {
  value = {
    gateway       = module.iam.gateway_email
    functions     = module.iam.functions_email
    tasks_invoker = module.iam.tasks_invoker_email
    pubsub_push   = module.iam.pubsub_push_email
  }
  description = "The runtime service accounts by component."
}

output "app_check" {
  value = {
    enforced        = var.app_check_enforced
    firebase_app_id = module.identity.firebase_app_id
    site_key        = module.identity.app_check_site_key
  }
  description = "App Check as deployed: whether the servers enforce it, and the web app id and reCAPTCHA Enterprise site key the browser uses (\"\" when App Check is off)."
}
