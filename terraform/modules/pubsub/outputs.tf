output "commands_topic_id" {
  value       = google_pubsub_topic.commands.id
  description = "Full id of the commands topic."
}

output "commands_topic_name" {
  value       = google_pubsub_topic.commands.name
  description = "Name of the commands topic."
}

output "events_topic_id" {
  value       = google_pubsub_topic.events.id
  description = "Full id of the events topic."
}

output "events_topic_name" {
  value       = google_pubsub_topic.events.name
  description = "Name of the events topic."
}

output "dead_letter_topic_name" {
  value       = google_pubsub_topic.dead_letter.name
  description = "Name of the topic refused commands land on."
}

output "dead_letter_subscription_name" {
  value       = google_pubsub_subscription.dead_letter.name
  description = "Push subscription that replays dead-lettered commands to on_command until they succeed (its backlog is what to watch)."
}

output "on_command_subscription_name" {
  value       = google_pubsub_subscription.on_command.name
  description = "The push subscription delivering commands to on_command."
}
