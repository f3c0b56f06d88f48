# The WebSocket gateway on Cloud Run. It also serves the static web client (web/), so
# the page and its socket share one origin.

locals {
  # Prometheus /metrics: gateway/config.py's DEFAULT_METRICS_PORT, on 127.0.0.1 only (the
  # public port 8080 has no /metrics). The sidecar shares the instance's network, so it
  # scrapes it over localhost as the RunMonitoring below says.
  metrics_port = 9464

  # The sidecar's scrape configuration (Managed Service for Prometheus, "Add the sidecar to
  # a Cloud Run service", custom RunMonitoring): its default scrapes port 8080, the public
  # one. Read from /etc/rungmp/config.yaml, mounted from Secret Manager as documented.
  run_monitoring = {
    apiVersion = "monitoring.googleapis.com/v1beta"
    kind       = "RunMonitoring"
    metadata   = { name = var.name }
    spec = {
      endpoints = [{ port = tostring(local.metrics_port), path = "/metrics", interval = "30s" }]
    }
  }

  # Exactly what gateway/config.py reads, bar what must stay unset in the cloud (tests/infra
  # holds the two together): PORT (Cloud Run sets it), GATEWAY_ID (each instance derives
  # its own, which names its own events subscription) and every *_EMULATOR_HOST (a
  # production start refuses them). A null value is left unset: the code's default applies.
  env = {
    GOOGLE_CLOUD_PROJECT     = var.project_id
    QUIZ_ENV                 = "production"
    HOST                     = "0.0.0.0"
    COMMANDS_TOPIC           = var.commands_topic
    EVENTS_TOPIC             = var.events_topic
    ALLOWED_ORIGINS          = join(",", var.allowed_origins)
    PUBLIC_API_URL           = var.public_api_url
    FIREBASE_WEB_API_KEY     = var.firebase_web_api_key
    MAX_FRAME_BYTES          = tostring(var.limits.max_frame_bytes)
    RATE_PER_S               = tostring(var.limits.rate_per_s)
    RATE_BURST               = tostring(var.limits.rate_burst)
    MAX_CONNECTIONS_PER_USER = tostring(var.limits.max_connections_per_user)
    SEND_BUFFER_LIMIT_BYTES  = tostring(var.limits.send_buffer_limit_bytes)
    PING_INTERVAL_S          = tostring(var.limits.ping_interval_s)
    LEADERBOARD_GAP_MS       = tostring(var.leaderboard_gap_ms)
    COMMAND_BATCH_GAP_MS     = tostring(var.command_batch_gap_ms)
    TRACE_SAMPLE_RATIO       = tostring(var.trace_sample_ratio)
    METRICS_PORT             = tostring(local.metrics_port)
    # App Check (reCAPTCHA Enterprise): the page's app and site key in /config.json, and
    # whether a handshake without a valid App Check token is refused.
    FIREBASE_APP_ID    = var.firebase_app_id
    APP_CHECK_SITE_KEY = var.app_check_site_key
    APP_CHECK_ENFORCED = tostring(var.app_check_enforced)
    # /health/ready's background check of the commands topic: the code's default (5 s).
    READY_CHECK_INTERVAL_MS = null
    # SIGTERM's wait for the commands in flight: the code's default (3 s) fits in the
    # 10 s Cloud Run gives an instance after SIGTERM.
    DRAIN_TIMEOUT_MS = null
    # Production exports spans to Cloud Trace (QUIZ_ENV); these choose otherwise on a laptop.
    OTEL_TRACES_EXPORTER        = null
    OTEL_EXPORTER_OTLP_ENDPOINT = null
  }
}

resource "google_cloud_run_v2_service" "main" {
  project             = var.project_id
  location            = var.region
  name                = var.name
  description         = "Vocabulary quiz WebSocket gateway and web client."
  ingress             = "INGRESS_TRAFFIC_ALL"
  deletion_protection = var.deletion_protection
  # Public without an allUsers grant, where an organisation policy forbids those.
  invoker_iam_disabled = var.invoker_iam_disabled

  template {
    service_account       = var.service_account_email
    execution_environment = "EXECUTION_ENVIRONMENT_GEN2"
    # A socket is one long request: Cloud Run closes it at the timeout (60 min at most),
    # and the client reconnects and sends REJOIN.
    timeout                          = "${var.request_timeout_s}s"
    max_instance_request_concurrency = var.max_concurrency
    # Reconnects land on the same instance while it lives (best effort; REJOIN covers the rest).
    session_affinity = true

    scaling {
      min_instance_count = var.min_instances
      max_instance_count = var.max_instances
    }

    containers {
      name  = "gateway"
      image = var.image

      ports {
        name           = "http1"
        container_port = 8080
      }

      resources {
        limits = {
          cpu    = var.cpu
          memory = var.memory
        }
        # The events subscription is pulled in the background, between requests too.
        cpu_idle          = !var.cpu_always_allocated
        startup_cpu_boost = true
      }

      dynamic "env" {
        for_each = { for name, value in local.env : name => value if value != null }
        content {
          name  = env.key
          value = env.value
        }
      }

      # Ready once the commands topic answers (the gateway's own readiness check).
      startup_probe {
        initial_delay_seconds = 0
        period_seconds        = 2
        timeout_seconds       = 3
        failure_threshold     = 15

        http_get {
          path = "/health/ready"
          port = 8080
        }
      }

      liveness_probe {
        period_seconds    = 15
        timeout_seconds   = 3
        failure_threshold = 3

        http_get {
          path = "/health/live"
          port = 8080
        }
      }
    }

    # Managed Service for Prometheus: scrapes the gateway's /metrics on localhost (the
    # RunMonitoring in local.run_monitoring) into Cloud Monitoring, where the dashboard and
    # the alerts in modules/monitoring read it (prometheus.googleapis.com/quiz_gateway_*).
    containers {
      name       = "prometheus"
      image      = var.prometheus_sidecar_image
      depends_on = ["gateway"]

      resources {
        limits = {
          cpu    = "500m"
          memory = "256Mi"
        }
      }

      volume_mounts {
        name       = "rungmp-config"
        mount_path = "/etc/rungmp"
      }
    }

    volumes {
      name = "rungmp-config"
      secret {
        secret = google_secret_manager_secret.run_monitoring.secret_id
        items {
          # The version itself, not "latest": a changed configuration is a new revision.
          version = google_secret_manager_secret_version.run_monitoring.version
          path    = "config.yaml"
        }
      }
    }
  }

  traffic {
    type    = "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST"
    percent = 100
  }

  # Cloud Run checks at deployment that the service account can read every secret mounted.
  depends_on = [google_secret_manager_secret_iam_member.run_monitoring]
}

# The sidecar's RunMonitoring (not a secret: Secret Manager is how the sidecar's documented
# setup mounts a file into it).
resource "google_secret_manager_secret" "run_monitoring" {
  project   = var.project_id
  secret_id = "${var.name}-run-monitoring"

  replication {
    auto {}
  }
}

resource "google_secret_manager_secret_version" "run_monitoring" {
  secret      = google_secret_manager_secret.run_monitoring.id
  secret_data = yamlencode(local.run_monitoring)
}

resource "google_secret_manager_secret_iam_member" "run_monitoring" {
  project   = var.project_id
  secret_id = google_secret_manager_secret.run_monitoring.secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${var.service_account_email}"
}

# Public by default: the gateway is the entry point (web page and WebSocket) and checks
# a Firebase ID token and the Origin at every socket handshake itself.
resource "google_cloud_run_v2_service_iam_member" "invoker" {
  for_each = var.invokers

  project  = var.project_id
  location = var.region
  name     = google_cloud_run_v2_service.main.name
  role     = "roles/run.invoker"
  member   = each.value
}
