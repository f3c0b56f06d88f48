variable "project_id" {
  type        = string
  description = "The project holding the database."
}

variable "location_id" {
  type        = string
  description = "Firestore location: a region (e.g. us-central1, beside the functions) or a multi-region (nam5, eur3)."
}

variable "indexes_file" {
  type        = string
  description = "Path of firestore.indexes.json (Firebase CLI format), the one file the emulator setup and the cloud share."
}

variable "rules_file" {
  type        = string
  description = "Path of firestore.rules."
}

variable "point_in_time_recovery" {
  type        = bool
  description = "Keep 7 days of versions for point-in-time recovery (billed as storage)."
  default     = false
}

variable "deletion_protection" {
  type        = bool
  description = "Refuse to delete the database (and only abandon it on terraform destroy)."
  default     = true
}
