output "repository_id" {
  value       = google_artifact_registry_repository.main.id
  description = "Full id: projects/<project>/locations/<region>/repositories/<name>."
}

output "repository_name" {
  value       = google_artifact_registry_repository.main.repository_id
  description = "The repository's short name."
}

output "docker_url" {
  value       = "${var.region}-docker.pkg.dev/${var.project_id}/${google_artifact_registry_repository.main.repository_id}"
  description = "Prefix to tag and push images with, e.g. <docker_url>/gateway:<tag>."
}

output "source_bucket" {
  value       = google_storage_bucket.source.name
  description = "Bucket the functions' source zip is uploaded to."
}
