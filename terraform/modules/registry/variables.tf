variable "project_id" {
  type        = string
  description = "The project holding the repository and the bucket."
}

variable "region" {
  type        = string
  description = "Region of the Docker repository and the source bucket (the functions' region)."
}

variable "repository_id" {
  type        = string
  description = "Artifact Registry repository id; also part of the source bucket's name."
}

variable "keep_image_count" {
  type        = number
  description = "Most recent versions of each image kept regardless of age (rollbacks)."
  default     = 10
}

variable "image_max_age_days" {
  type        = number
  description = "Images older than this (and not among the most recent) are deleted."
  default     = 30
}

variable "source_retention_days" {
  type        = number
  description = "Days a replaced function source zip is kept (as a noncurrent version) for a rollback."
  default     = 7
}
