# Topics and the one long-lived subscription. The gateway creates (and deletes) its own
# per-instance `<events topic>-gw-<id>` subscriptions at runtime; none is declared here.

locals {
  dead_letter_topic = "${var.commands_topic}-dead-letter"
}

resource "google_pubsub_topic" "commands" {
  #checkov:skip=CKV_GCP_83: Player commands (an answer choice, a display name) need no CMEK; Google-managed encryption at rest applies, and a KMS key would add per-message crypto cost.
  project = var.project_id
  name    = var.commands_topic
}

resource "google_pubsub_topic" "events" {
  #checkov:skip=CKV_GCP_83: Events mirror what players already see on screen; Google-managed encryption at rest applies, and a KMS key would add per-message crypto cost.
  project = var.project_id
  name    = var.events_topic
}

resource "google_pubsub_topic" "dead_letter" {
  #checkov:skip=CKV_GCP_83: Holds only commands the function refused after every retry; same data class as the commands topic.
  project = var.project_id
  name    = local.dead_letter_topic
}

# Commands are pushed to on_command by a subscription we own rather than by the one an
# Eventarc trigger creates for itself: only a subscription we manage can carry a
# dead-letter policy, and it is the same `<commands topic>-on-command` push subscription
# the local stack provisions (local/devstack/provision.py). functions-framework turns the
# Pub/Sub push envelope into the CloudEvent on_command expects.
resource "google_pubsub_subscription" "on_command" {
  project = var.project_id
  name    = "${var.commands_topic}-on-command"
  topic   = google_pubsub_topic.commands.id

  ack_deadline_seconds = var.ack_deadline_s
  # A command older than this is from a question long closed: let it go.
  message_retention_duration = "${var.command_retention_s}s"

  expiration_policy {
    ttl = ""
  }

  retry_policy {
    minimum_backoff = "${var.minimum_backoff_s}s"
    maximum_backoff = "${var.maximum_backoff_s}s"
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter.id
    max_delivery_attempts = var.max_delivery_attempts
  }

  push_config {
    push_endpoint = var.on_command_url

    oidc_token {
      service_account_email = var.push_service_account_email
      audience              = var.on_command_url
    }
  }
}

# The dead letters go back to on_command, again and again, until they succeed: a command
# is dead-lettered only after max_delivery_attempts failures (about 48 minutes of them at
# the defaults, e.g. a Firestore outage), and its answer was acknowledged to the player,
# so it is retried every dead_letter_maximum_backoff_s at most for as long as Pub/Sub
# keeps it. Its gateway stamps (receive time, user) travel with it, so a late replay is
# judged by when the answer arrived, exactly once. The monitoring module alerts while
# messages wait here; an operator can also seek or purge the subscription.
resource "google_pubsub_subscription" "dead_letter" {
  project = var.project_id
  name    = "${local.dead_letter_topic}-replay"
  topic   = google_pubsub_topic.dead_letter.id

  ack_deadline_seconds       = var.ack_deadline_s
  message_retention_duration = "${var.dead_letter_retention_s}s"
  retain_acked_messages      = false

  expiration_policy {
    ttl = ""
  }

  retry_policy {
    minimum_backoff = "${var.dead_letter_minimum_backoff_s}s"
    maximum_backoff = "${var.dead_letter_maximum_backoff_s}s"
  }

  push_config {
    push_endpoint = var.on_command_url

    oidc_token {
      service_account_email = var.push_service_account_email
      audience              = var.on_command_url
    }
  }
}

# Dead-lettering is done by the Pub/Sub service agent: it must be able to publish to the
# dead-letter topic and to acknowledge the message on the source subscription.
resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  project = var.project_id
  topic   = google_pubsub_topic.dead_letter.name
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:${var.pubsub_service_agent_email}"
}

resource "google_pubsub_subscription_iam_member" "dead_letter_source" {
  project      = var.project_id
  subscription = google_pubsub_subscription.on_command.name
  role         = "roles/pubsub.subscriber"
  member       = "serviceAccount:${var.pubsub_service_agent_email}"
}
