# The four Cloud Functions (gen2), all built from one zip of functions/ (plus the vocabquiz/ package):
# main.py loads the whole configuration at import, so every function gets the same env.

locals {
  # One entry per @functions_framework entry point in functions/main.py; tests/infra
  # fails if the two disagree. `public`: browsers call it (it checks Firebase ID tokens
  # itself); the others are reached only by Pub/Sub push and Cloud Tasks.
  functions = {
    sessions_api      = { public = true, description = "Host HTTP API: create, start, advance and end sessions." }
    on_command        = { public = false, description = "Player commands, pushed from the commands topic." }
    flush_leaderboard = { public = false, description = "Leaderboard flush, one Cloud Task per session and window." }
    advance_question  = { public = false, description = "Question timers: reveal, then the next question." }
  }

  service_names = { for entry_point in keys(local.functions) : entry_point => "${var.name_prefix}-${replace(entry_point, "_", "-")}" }

  # Each function's Cloud Run URL, the address and OIDC audience of every caller: Pub/Sub
  # push and Cloud Tasks reach an internal-only service as internal traffic only at its
  # run.app URL, not at another domain such as cloudfunctions.net, and Cloud Run checks
  # that a token's audience is its run.app URL (Cloud Run docs: "Restrict network ingress",
  # "Set custom audiences"). Built in Cloud Run's deterministic form, not read from the
  # resources: each function's env names the flush and timer targets, themselves
  # included, which would otherwise be a dependency cycle.
  urls = { for entry_point, name in local.service_names : entry_point => "https://${name}-${var.project_number}.${var.region}.run.app" }

  # Exactly what vocabquiz/service/config.py reads (tests/infra holds the two together). A null
  # value is left unset, so the code's default applies.
  env = {
    GOOGLE_CLOUD_PROJECT  = var.project_id
    EVENTS_TOPIC          = var.events_topic
    TASKS_LOCATION        = var.tasks_location
    FLUSH_QUEUE_PREFIX    = var.flush_queue_prefix
    FLUSH_QUEUE_COUNT     = tostring(var.flush_queue_count)
    TIMER_QUEUE           = var.timer_queue
    FLUSH_URL             = local.urls["flush_leaderboard"]
    TIMER_URL             = local.urls["advance_question"]
    TASKS_SERVICE_ACCOUNT = var.tasks_service_account_email
    FLUSH_WINDOW_MS       = tostring(var.timing.flush_window_ms)
    SNAPSHOT_WINDOW_MS    = tostring(var.timing.snapshot_window_ms)
    REVEAL_PAUSE_MS       = tostring(var.timing.reveal_pause_ms)
    API_ALLOWED_ORIGINS   = join(",", var.api_allowed_origins)
    QUIZ_ENV              = "production"
    TRACE_SAMPLE_RATIO    = tostring(var.trace_sample_ratio)
    # What one account may cost (vocabquiz/domain/quotas.py).
    MAX_SESSIONS_PER_USER_PER_DAY     = tostring(var.quotas.sessions_per_user_per_day)
    MAX_QUIZ_UPLOADS_PER_USER_PER_DAY = tostring(var.quotas.quiz_uploads_per_user_per_day)
    MAX_QUIZ_BYTES                    = tostring(var.quotas.quiz_bytes)
    MAX_QUIZ_QUESTIONS                = tostring(var.quotas.quiz_questions)
    # The host API refuses requests without a valid App Check token (X-Firebase-AppCheck).
    APP_CHECK_ENFORCED = tostring(var.app_check_enforced)
    # Production exports spans to Cloud Trace (QUIZ_ENV); these choose otherwise on a laptop.
    OTEL_TRACES_EXPORTER        = null
    OTEL_EXPORTER_OTLP_ENDPOINT = null
  }
}

resource "google_storage_bucket_object" "source" {
  # Named by content, so a changed zip is a new object and the functions rebuild.
  name   = "functions-${filemd5(var.source_zip_path)}.zip"
  bucket = var.source_bucket
  source = var.source_zip_path
}

# The three functions only Pub/Sub push and Cloud Tasks call: internal ingress.
resource "google_cloudfunctions2_function" "main" {
  for_each = { for entry_point, function in local.functions : entry_point => function if !function.public }

  project     = var.project_id
  location    = var.region
  name        = local.service_names[each.key]
  description = each.value.description

  build_config {
    runtime           = var.runtime
    entry_point       = each.key
    service_account   = var.build_service_account_id
    docker_repository = var.docker_repository_id

    source {
      storage_source {
        bucket = var.source_bucket
        object = google_storage_bucket_object.source.name
      }
    }
  }

  service_config {
    service_account_email            = var.service_account_email
    available_cpu                    = var.cpu
    available_memory                 = var.memory
    timeout_seconds                  = var.timeout_s
    min_instance_count               = lookup(var.min_instances, each.key, 0)
    max_instance_count               = var.max_instances
    max_instance_request_concurrency = var.max_concurrency
    ingress_settings                 = var.private_ingress
    all_traffic_on_latest_revision   = true
    environment_variables            = { for name, value in local.env : name => value if value != null }
  }

  lifecycle {
    precondition {
      condition     = length("${local.service_names[each.key]}-${var.project_number}") <= 63
      error_message = "Cloud Run gives a service its deterministic URL (local.urls) only while <name>-<project number> fits one 63-character DNS label: shorten name_prefix."
    }
  }
}

# The browser-facing API: same build and runtime as the others, open ingress.
resource "google_cloudfunctions2_function" "public" {
  #checkov:skip=CKV_GCP_124: Browsers call the host API directly (CORS limited to the web origins); every route requires a Firebase ID token, verified by the function.
  for_each = { for entry_point, function in local.functions : entry_point => function if function.public }

  project     = var.project_id
  location    = var.region
  name        = local.service_names[each.key]
  description = each.value.description

  build_config {
    runtime           = var.runtime
    entry_point       = each.key
    service_account   = var.build_service_account_id
    docker_repository = var.docker_repository_id

    source {
      storage_source {
        bucket = var.source_bucket
        object = google_storage_bucket_object.source.name
      }
    }
  }

  service_config {
    service_account_email            = var.service_account_email
    available_cpu                    = var.cpu
    available_memory                 = var.memory
    timeout_seconds                  = var.timeout_s
    min_instance_count               = lookup(var.min_instances, each.key, 0)
    max_instance_count               = var.max_instances
    max_instance_request_concurrency = var.max_concurrency
    ingress_settings                 = "ALLOW_ALL"
    all_traffic_on_latest_revision   = true
    environment_variables            = { for name, value in local.env : name => value if value != null }
  }

  lifecycle {
    precondition {
      condition     = length("${local.service_names[each.key]}-${var.project_number}") <= 63
      error_message = "Cloud Run gives a service its deterministic URL (local.urls) only while <name>-<project number> fits one 63-character DNS label: shorten name_prefix."
    }
  }
}

# Where an organisation policy forbids allUsers grants, the browser-facing function is
# public with Cloud Run's invoker check off instead. A function cannot set that itself
# (provider issue 23360), its Cloud Run service can: gcloud sets it after each deploy of
# the function (a new revision), from the machine that runs terraform.
resource "terraform_data" "no_invoker_check" {
  for_each = {
    for entry_point, function in google_cloudfunctions2_function.public :
    entry_point => function.service_config[0].revision if !var.public_invoker_check
  }

  triggers_replace = [each.value]

  provisioner "local-exec" {
    command = "gcloud run services update ${local.service_names[each.key]} --project=${var.project_id} --region=${var.region} --no-invoker-iam-check --quiet"
  }
}

# Who may call each function; the members are decided by the caller (the iam module's
# accounts, or allUsers for the browser-facing API, which authenticates its callers
# itself). Keyed by labels, not by members: a new account's email is unknown until it
# exists.
resource "google_cloud_run_v2_service_iam_member" "invoker" {
  for_each = merge([
    for entry_point, members in var.invokers : {
      for label, member in members : "${entry_point}/${label}" => { entry_point = entry_point, member = member }
    }
  ]...)

  project  = var.project_id
  location = var.region
  name     = local.service_names[each.value.entry_point]
  role     = "roles/run.invoker"
  member   = each.value.member

  depends_on = [google_cloudfunctions2_function.main, google_cloudfunctions2_function.public]
}
