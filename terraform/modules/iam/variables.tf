variable "project_id" {
  type        = string
  description = "The project the accounts live in."
}

variable "region" {
  type        = string
  description = "Region of the Artifact Registry repository."
}

variable "name_prefix" {
  type        = string
  description = "Account ids are <prefix>-<component> (6 to 30 characters in all)."
  default     = "quiz"
}

variable "commands_topic_name" {
  type        = string
  description = "Topic the gateway publishes commands to."
}

variable "events_topic_name" {
  type        = string
  description = "Topic the functions publish events to and the gateway subscribes to."
}

variable "queue_names" {
  type        = list(string)
  description = "Every Cloud Tasks queue the functions create tasks in."
}

variable "tasks_location" {
  type        = string
  description = "Location of the queues."
}

variable "source_bucket" {
  type        = string
  description = "Bucket holding the functions' source zip (read by the build)."
}

variable "docker_repository_name" {
  type        = string
  description = "Artifact Registry repository (short name) the functions' builds push to."
}

variable "pubsub_service_agent_email" {
  type        = string
  description = "The project's Pub/Sub service agent, which signs push requests."
}
