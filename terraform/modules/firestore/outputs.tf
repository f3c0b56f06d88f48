output "database_name" {
  value       = google_firestore_database.main.name
  description = "The database name, (default)."
}

output "index_count" {
  value       = length(google_firestore_index.main)
  description = "Composite indexes declared from firestore.indexes.json."
}

output "ruleset_name" {
  value       = google_firebaserules_ruleset.main.name
  description = "The released ruleset."
}
