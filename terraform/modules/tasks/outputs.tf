output "queue_names" {
  value       = concat([google_cloud_tasks_queue.timers.name], google_cloud_tasks_queue.flush[*].name)
  description = "Every queue's short name: the timer queue, then the flush queues in order."
}

output "queue_ids" {
  value = merge(
    { (google_cloud_tasks_queue.timers.name) = google_cloud_tasks_queue.timers.id },
    { for queue in google_cloud_tasks_queue.flush : queue.name => queue.id },
  )
  description = "Full queue ids by short name."
}

output "location" {
  value       = var.location
  description = "The queues' location."
}
