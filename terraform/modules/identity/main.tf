# Sign-in: Identity Platform with anonymous users (a player needs no account), and the
# browser API key the web client signs in with. With App Check on, also what lets a browser
# prove it runs the served web client: Firebase on the project, the client as a Firebase
# web app, and a reCAPTCHA Enterprise key App Check exchanges for App Check tokens.

locals {
  # reCAPTCHA Enterprise takes hosts (its subdomains included), not origins.
  web_domains = [for origin in var.web_origins : trimprefix(origin, "https://")]
}

resource "google_identity_platform_config" "main" {
  project                    = var.project_id
  authorized_domains         = var.authorized_domains
  autodelete_anonymous_users = var.autodelete_anonymous_users

  sign_in {
    allow_duplicate_emails = false

    anonymous {
      enabled = true
    }
  }
}

# A browser key is public by nature (it ships in /config.json); restricting it to our
# origins and to the sign-in and Firestore APIs limits what a copied key can do.
resource "google_apikeys_key" "web" {
  project      = var.project_id
  name         = var.api_key_name
  display_name = "Vocabulary quiz web client"

  restrictions {
    browser_key_restrictions {
      allowed_referrers = [for origin in var.web_origins : "${origin}/*"]
    }

    api_targets {
      service = "identitytoolkit.googleapis.com"
    }

    api_targets {
      service = "securetoken.googleapis.com"
    }

    api_targets {
      service = "firestore.googleapis.com"
    }

    # The Firebase JS SDK exchanges its reCAPTCHA token for an App Check token with this key.
    dynamic "api_targets" {
      for_each = var.app_check ? ["firebaseappcheck.googleapis.com"] : []
      content {
        service = api_targets.value
      }
    }
  }
}

# -- App Check (reCAPTCHA Enterprise), only when asked for ---------------------------------

# Adds Firebase to the project; it cannot be removed again. A project that already has
# Firebase refuses this with 409: import it instead (docs/deploy.md).
resource "google_firebase_project" "main" {
  provider = google-beta
  count    = var.app_check ? 1 : 0

  project = var.project_id
}

# The web client as a Firebase app: App Check attests apps. It uses the restricted browser
# key above instead of a key of its own Firebase would otherwise provision.
resource "google_firebase_web_app" "main" {
  provider = google-beta
  count    = var.app_check ? 1 : 0

  project         = var.project_id
  display_name    = "Vocabulary quiz web client"
  api_key_id      = google_apikeys_key.web.uid
  deletion_policy = "DELETE"

  depends_on = [google_firebase_project.main]
}

# App Check knows a new app only after a while (the provider's own example waits 30 s).
resource "time_sleep" "web_app_known_to_app_check" {
  count = var.app_check ? 1 : 0

  create_duration = "30s"

  triggers = {
    app_id = google_firebase_web_app.main[0].app_id
  }
}

# A score-based key (no challenge shown) that works only on the web origins.
resource "google_recaptcha_enterprise_key" "web" {
  count = var.app_check ? 1 : 0

  project      = var.project_id
  display_name = "Vocabulary quiz web client (App Check)"

  web_settings {
    integration_type  = "SCORE"
    allow_all_domains = false
    allowed_domains   = local.web_domains
  }
}

resource "google_firebase_app_check_recaptcha_enterprise_config" "web" {
  provider = google-beta
  count    = var.app_check ? 1 : 0

  project   = var.project_id
  app_id    = time_sleep.web_app_known_to_app_check[0].triggers["app_id"]
  site_key  = google_recaptcha_enterprise_key.web[0].name
  token_ttl = "${var.app_check_token_ttl_s}s"
}
