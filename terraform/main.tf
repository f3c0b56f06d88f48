# The vocabulary quiz on Google Cloud: the gateway (Cloud Run, also serving the web
# client), the functions (Cloud Functions gen2), Pub/Sub, Cloud Tasks, Firestore and
# Identity Platform. One environment per project; see docs/deploy.md.

provider "google" {
  project               = var.project_id
  region                = var.region
  billing_project       = var.project_id
  user_project_override = true
  default_labels        = var.labels
}

provider "google-beta" {
  project               = var.project_id
  region                = var.region
  billing_project       = var.project_id
  user_project_override = true
  default_labels        = var.labels
}

data "google_project" "main" {
  project_id = var.project_id
}

locals {
  # The names the code uses (local/devstack/stack.py, vocabquiz/service/config.py, gateway/config.py);
  # tests/infra fails when they drift apart.
  commands_topic     = "quiz-commands"
  events_topic       = "quiz-events"
  timer_queue        = "question-timers"
  flush_queue_prefix = "leaderboard-flush"

  # The gateway serves the web client, so its origin is the web origin. Cloud Run's
  # deterministic URL is known before the service exists, which the gateway's own env
  # (ALLOWED_ORIGINS) needs.
  gateway_name   = "quiz-gateway"
  gateway_host   = "${local.gateway_name}-${data.google_project.main.number}.${var.region}.run.app"
  web_origins    = concat(["https://${local.gateway_host}"], var.extra_web_origins)
  web_domains    = [for origin in local.web_origins : trimprefix(origin, "https://")]
  functions_zip  = coalesce(var.functions_source_zip, "${path.root}/../build/functions.zip")
  firestore_site = coalesce(var.firestore_location, var.region)

  # Browsers reach the gateway and the host API by an allUsers grant, or, where an
  # organisation policy forbids those, with Cloud Run's invoker check off.
  invoker_check_disabled = var.public_access == "invoker_check_disabled"
  public_members         = local.invoker_check_disabled ? {} : { public = "allUsers" }

  # Enforcing App Check needs everything App Check is made of (docs/deploy.md, "App Check").
  app_check = var.app_check_enabled || var.app_check_enforced
  app_check_services = [
    "firebase.googleapis.com",
    "firebaseappcheck.googleapis.com",
    "recaptchaenterprise.googleapis.com",
  ]

  services = [
    "apikeys.googleapis.com",
    "artifactregistry.googleapis.com",
    "cloudbuild.googleapis.com",
    "cloudfunctions.googleapis.com",
    "cloudresourcemanager.googleapis.com",
    "cloudtasks.googleapis.com",
    "cloudtrace.googleapis.com",
    "firebaserules.googleapis.com",
    "firestore.googleapis.com",
    "iam.googleapis.com",
    "iamcredentials.googleapis.com",
    "identitytoolkit.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
    "pubsub.googleapis.com",
    "run.googleapis.com",
    "secretmanager.googleapis.com",
    "securetoken.googleapis.com",
    "storage.googleapis.com",
  ]
}

module "apis" {
  source = "./modules/apis"

  project_id = var.project_id
  services   = concat(local.services, local.app_check ? local.app_check_services : [])
}

module "registry" {
  source = "./modules/registry"

  project_id    = var.project_id
  region        = var.region
  repository_id = "quiz"

  depends_on = [module.apis]
}

module "pubsub" {
  source = "./modules/pubsub"

  project_id                 = var.project_id
  commands_topic             = local.commands_topic
  events_topic               = local.events_topic
  push_service_account_email = module.iam.pubsub_push_email
  pubsub_service_agent_email = module.apis.pubsub_service_agent_email
  max_delivery_attempts      = var.command_max_delivery_attempts

  # Known only once every function is built and admits its callers (modules/functions
  # outputs.tf), so no push subscription exists before the function it pushes to.
  on_command_url = module.functions.urls["on_command"]

  depends_on = [module.apis]
}

module "tasks" {
  source = "./modules/tasks"

  project_id                      = var.project_id
  location                        = var.region
  timer_queue                     = local.timer_queue
  flush_queue_prefix              = local.flush_queue_prefix
  flush_queue_count               = var.flush_queue_count
  flush_max_dispatches_per_second = var.flush_max_dispatches_per_second

  depends_on = [module.apis]
}

module "firestore" {
  source = "./modules/firestore"

  project_id             = var.project_id
  location_id            = local.firestore_site
  indexes_file           = "${path.root}/../firestore.indexes.json"
  rules_file             = "${path.root}/../firestore.rules"
  point_in_time_recovery = var.firestore_point_in_time_recovery
  deletion_protection    = var.deletion_protection

  depends_on = [module.apis]
}

module "identity" {
  source = "./modules/identity"

  project_id         = var.project_id
  authorized_domains = concat(local.web_domains, var.extra_authorized_domains)
  web_origins        = local.web_origins
  app_check          = local.app_check

  depends_on = [module.apis]
}

module "iam" {
  source = "./modules/iam"

  project_id                 = var.project_id
  region                     = var.region
  commands_topic_name        = module.pubsub.commands_topic_name
  events_topic_name          = module.pubsub.events_topic_name
  queue_names                = module.tasks.queue_names
  tasks_location             = module.tasks.location
  source_bucket              = module.registry.source_bucket
  docker_repository_name     = module.registry.repository_name
  pubsub_service_agent_email = module.apis.pubsub_service_agent_email

  depends_on = [module.apis]
}

module "functions" {
  source = "./modules/functions"

  project_id                  = var.project_id
  project_number              = data.google_project.main.number
  region                      = var.region
  source_zip_path             = local.functions_zip
  source_bucket               = module.registry.source_bucket
  docker_repository_id        = module.registry.repository_id
  build_service_account_id    = module.iam.functions_build_id
  service_account_email       = module.iam.functions_email
  tasks_service_account_email = module.iam.tasks_invoker_email
  events_topic                = local.events_topic
  tasks_location              = module.tasks.location
  timer_queue                 = local.timer_queue
  flush_queue_prefix          = local.flush_queue_prefix
  flush_queue_count           = var.flush_queue_count
  api_allowed_origins         = local.web_origins
  timing                      = var.quiz_timing
  quotas                      = var.quiz_quotas
  trace_sample_ratio          = var.trace_sample_ratio
  min_instances               = var.function_min_instances
  max_instances               = var.function_max_instances
  app_check_enforced          = var.app_check_enforced
  public_invoker_check        = !local.invoker_check_disabled

  # The only callers: browsers for the API, and the accounts Pub/Sub and Cloud Tasks sign as.
  invokers = {
    sessions_api      = local.public_members
    on_command        = { pubsub_push = "serviceAccount:${module.iam.pubsub_push_email}" }
    flush_leaderboard = { cloud_tasks = "serviceAccount:${module.iam.tasks_invoker_email}" }
    advance_question  = { cloud_tasks = "serviceAccount:${module.iam.tasks_invoker_email}" }
  }

  # The build needs its grants before the first build; the runtime before the first request.
  depends_on = [module.apis, module.iam, module.firestore]
}

module "gateway" {
  source = "./modules/gateway"

  project_id            = var.project_id
  region                = var.region
  name                  = local.gateway_name
  image                 = var.gateway_image
  service_account_email = module.iam.gateway_email
  commands_topic        = local.commands_topic
  events_topic          = local.events_topic
  allowed_origins       = local.web_origins
  public_api_url        = module.functions.urls["sessions_api"]
  limits                = var.gateway_limits
  leaderboard_gap_ms    = var.quiz_timing.flush_window_ms
  trace_sample_ratio    = var.trace_sample_ratio
  min_instances         = var.gateway_min_instances
  max_instances         = var.gateway_max_instances
  max_concurrency       = var.gateway_max_concurrency
  deletion_protection   = var.deletion_protection
  invokers              = local.public_members
  invoker_iam_disabled  = local.invoker_check_disabled

  # Public by design (the page gets it from /config.json); unmarked so the gateway's env,
  # built with a for expression, is not wholly sensitive.
  firebase_web_api_key = nonsensitive(module.identity.web_api_key)

  # App Check in the browser ("" when off), and whether the gateway refuses sockets without it.
  firebase_app_id    = module.identity.firebase_app_id
  app_check_site_key = module.identity.app_check_site_key
  app_check_enforced = var.app_check_enforced

  # Its startup probe reads the commands topic, and it creates its subscription at start.
  # It goes live only after the functions and the push subscriptions: a command published
  # before the commands topic has its subscription would be lost, and one pushed before
  # on_command exists would fail.
  depends_on = [module.apis, module.iam, module.functions, module.pubsub]
}

module "monitoring" {
  source = "./modules/monitoring"

  project_id                    = var.project_id
  function_service_names        = module.functions.service_names
  gateway_service_name          = local.gateway_name
  commands_subscription_name    = module.pubsub.on_command_subscription_name
  dead_letter_subscription_name = module.pubsub.dead_letter_subscription_name
  dashboard_file                = "${path.root}/../dashboards/quiz-overview.json"
  notification_channels         = var.alert_notification_channels
  thresholds                    = var.alert_thresholds

  depends_on = [module.apis]
}
