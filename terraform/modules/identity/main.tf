# Sign-in: Identity Platform with anonymous users (a player needs no account), and the
# browser API key the web client signs in with.

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
  }
}
