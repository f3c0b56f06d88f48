# Where deployable artifacts live: the Docker repository (the gateway image, and the
# images Cloud Functions builds from the source zip) and the bucket holding that zip.

resource "google_artifact_registry_repository" "main" {
  #checkov:skip=CKV_GCP_84: Images hold application code and no secrets; Google-managed encryption at rest applies, and CMEK would add a KMS key to every build and pull for no data-protection gain.
  project       = var.project_id
  location      = var.region
  repository_id = var.repository_id
  format        = "DOCKER"
  description   = "Vocabulary quiz images: the gateway and the functions' builds."

  cleanup_policy_dry_run = false

  cleanup_policies {
    id     = "keep-recent"
    action = "KEEP"

    most_recent_versions {
      keep_count = var.keep_image_count
    }
  }

  cleanup_policies {
    id     = "delete-old"
    action = "DELETE"

    condition {
      older_than = "${var.image_max_age_days * 86400}s"
    }
  }
}

resource "google_storage_bucket" "source" {
  #checkov:skip=CKV_GCP_62: Holds only build inputs (zips of this repository's functions/ code), read by Cloud Build alone; Cloud Audit Logs record admin access, and a usage-log bucket would itself need one.
  project  = var.project_id
  name     = "${var.project_id}-${var.repository_id}-functions-source"
  location = var.region

  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false

  versioning {
    enabled = true
  }

  # Each deploy uploads a zip named by its hash and terraform deletes the previous one;
  # versioning keeps a deleted zip a week for a rollback.
  lifecycle_rule {
    condition {
      days_since_noncurrent_time = var.source_retention_days
    }
    action {
      type = "Delete"
    }
  }
}
