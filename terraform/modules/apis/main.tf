# The Google APIs the quiz uses, and the Pub/Sub service agent (which signs push tokens
# and moves poison commands to the dead-letter topic).

resource "google_project_service" "main" {
  for_each = toset(var.services)

  project = var.project_id
  service = each.value

  # Turning an API off on destroy would break anything else in the project using it.
  disable_on_destroy         = false
  disable_dependent_services = false
}

resource "google_project_service_identity" "pubsub" {
  provider = google-beta

  project = var.project_id
  service = "pubsub.googleapis.com"

  depends_on = [google_project_service.main]
}
