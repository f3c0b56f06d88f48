# One service account per component, each granted what it uses and no more, on the
# narrowest resource that can carry the grant. Who may invoke the functions and the
# gateway is granted beside them (functions and gateway modules, `invokers`), because
# those grants name services created after these accounts.

resource "google_service_account" "gateway" {
  project      = var.project_id
  account_id   = "${var.name_prefix}-gateway"
  display_name = "Quiz gateway (Cloud Run)"
}

resource "google_service_account" "functions" {
  project      = var.project_id
  account_id   = "${var.name_prefix}-functions"
  display_name = "Quiz functions (runtime)"
}

resource "google_service_account" "functions_build" {
  project      = var.project_id
  account_id   = "${var.name_prefix}-functions-build"
  display_name = "Quiz functions (Cloud Build)"
}

resource "google_service_account" "tasks_invoker" {
  project      = var.project_id
  account_id   = "${var.name_prefix}-tasks-invoker"
  display_name = "Cloud Tasks caller of flush_leaderboard and advance_question"
}

resource "google_service_account" "pubsub_push" {
  project      = var.project_id
  account_id   = "${var.name_prefix}-pubsub-push"
  display_name = "Pub/Sub push caller of on_command"
}

# -- gateway: publish commands, run its own events subscription ----------------------

resource "google_pubsub_topic_iam_member" "gateway_publishes_commands" {
  project = var.project_id
  topic   = var.commands_topic_name
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:${google_service_account.gateway.email}"
}

# /health/ready reads the commands topic (get_topic).
resource "google_pubsub_topic_iam_member" "gateway_reads_commands_topic" {
  project = var.project_id
  topic   = var.commands_topic_name
  role    = "roles/pubsub.viewer"
  member  = "serviceAccount:${google_service_account.gateway.email}"
}

# Attaching a subscription to the events topic is a right on the topic.
resource "google_pubsub_topic_iam_member" "gateway_subscribes_to_events" {
  project = var.project_id
  topic   = var.events_topic_name
  role    = "roles/pubsub.subscriber"
  member  = "serviceAccount:${google_service_account.gateway.email}"
}

# Each instance creates `<events topic>-gw-<id>` at start, pulls it, and deletes it at
# shutdown (gateway/pubsub.py): exactly these three permissions, and a subscription that
# does not exist yet can only be granted on the project. Creating one also needs
# pubsub.topics.attachSubscription on its topic, which the gateway holds on the events
# topic alone, so it can create no subscription to the commands or dead-letter topics.
#
# Consume and delete still reach every subscription in the project, the command and
# dead-letter ones included, and an IAM condition on the subscription name cannot narrow
# them: the IAM docs ("Resource attributes for IAM Conditions") list the services that
# recognize resource attributes, Pub/Sub Lite among them but not Pub/Sub, so a name
# condition here would at best not narrow and at worst refuse the gateway its own
# subscription (tests/infra holds this). Narrowing them needs the gateway to stop creating
# subscriptions at run time.
resource "google_project_iam_custom_role" "gateway_subscriptions" {
  project     = var.project_id
  role_id     = "${replace(var.name_prefix, "-", "_")}_gateway_subscriptions"
  title       = "Quiz gateway: own events subscriptions"
  description = "Create, consume and delete the per-instance events subscriptions."
  permissions = [
    "pubsub.subscriptions.create",
    "pubsub.subscriptions.consume",
    "pubsub.subscriptions.delete",
  ]
}

resource "google_project_iam_member" "gateway_subscriptions" {
  project = var.project_id
  role    = google_project_iam_custom_role.gateway_subscriptions.name
  member  = "serviceAccount:${google_service_account.gateway.email}"
}

# -- functions: Firestore, publish events, create tasks signed as the tasks invoker -----

# Firestore grants exist only on the project.
resource "google_project_iam_member" "functions_use_firestore" {
  project = var.project_id
  role    = "roles/datastore.user"
  member  = "serviceAccount:${google_service_account.functions.email}"
}

resource "google_pubsub_topic_iam_member" "functions_publish_events" {
  project = var.project_id
  topic   = var.events_topic_name
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:${google_service_account.functions.email}"
}

resource "google_cloud_tasks_queue_iam_member" "functions_enqueue" {
  for_each = toset(var.queue_names)

  project  = var.project_id
  location = var.tasks_location
  name     = each.value
  role     = "roles/cloudtasks.enqueuer"
  member   = "serviceAccount:${google_service_account.functions.email}"
}

# Creating a task with an OIDC token for the tasks invoker is acting as that account.
resource "google_service_account_iam_member" "functions_act_as_tasks_invoker" {
  service_account_id = google_service_account.tasks_invoker.name
  role               = "roles/iam.serviceAccountUser"
  member             = "serviceAccount:${google_service_account.functions.email}"
}

# -- functions build: read the source zip, push the image, write build logs ----------

resource "google_storage_bucket_iam_member" "build_reads_source" {
  bucket = var.source_bucket
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_service_account.functions_build.email}"
}

resource "google_artifact_registry_repository_iam_member" "build_pushes_images" {
  project    = var.project_id
  location   = var.region
  repository = var.docker_repository_name
  role       = "roles/artifactregistry.writer"
  member     = "serviceAccount:${google_service_account.functions_build.email}"
}

resource "google_project_iam_member" "build_writes_logs" {
  project = var.project_id
  role    = "roles/logging.logWriter"
  member  = "serviceAccount:${google_service_account.functions_build.email}"
}

# Gen2 copies the source zip into Google's own gcf-v2-sources-<number>-<region> bucket and
# builds from there, so a grant on our bucket alone fails every build
# (terraform-provider-google issue 20571). Cloud Run's build service account guide names
# Storage Object Admin on the project for it.
resource "google_project_iam_member" "build_reads_function_sources" {
  #checkov:skip=CKV_GCP_117: Not a basic role: the documented grant for a custom functions build account; this account only runs the functions' builds.
  project = var.project_id
  role    = "roles/storage.objectAdmin"
  member  = "serviceAccount:${google_service_account.functions_build.email}"
}

# IAM grants take a minute or so to reach every service. The functions take the build
# account from this wait (outputs.tf), so no build starts before its grants can be seen.
resource "time_sleep" "build_grants_settle" {
  create_duration = "60s"

  triggers = {
    build_service_account_id = google_service_account.functions_build.id
  }

  depends_on = [
    google_storage_bucket_iam_member.build_reads_source,
    google_project_iam_member.build_reads_function_sources,
    google_artifact_registry_repository_iam_member.build_pushes_images,
    google_project_iam_member.build_writes_logs,
  ]
}

# -- Pub/Sub push: the service agent mints the push account's OIDC tokens --------------

resource "google_service_account_iam_member" "pubsub_agent_signs_push_tokens" {
  service_account_id = google_service_account.pubsub_push.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = "serviceAccount:${var.pubsub_service_agent_email}"
}

# -- observability: spans to Cloud Trace (both), Prometheus metrics (the gateway's sidecar) --
# Logs need no grant here: Cloud Run and Cloud Functions ship stdout themselves.

resource "google_project_iam_member" "gateway_writes_traces" {
  project = var.project_id
  role    = "roles/cloudtrace.agent"
  member  = "serviceAccount:${google_service_account.gateway.email}"
}

resource "google_project_iam_member" "functions_write_traces" {
  project = var.project_id
  role    = "roles/cloudtrace.agent"
  member  = "serviceAccount:${google_service_account.functions.email}"
}

resource "google_project_iam_member" "gateway_writes_metrics" {
  project = var.project_id
  role    = "roles/monitoring.metricWriter"
  member  = "serviceAccount:${google_service_account.gateway.email}"
}
