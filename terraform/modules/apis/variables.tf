variable "project_id" {
  type        = string
  description = "The project to enable the APIs in."
}

variable "services" {
  type        = list(string)
  description = "API service names to enable, e.g. run.googleapis.com."
}
