"""The service: `Game` (commands and host steps), standings, and the host API, written
against the ports in `vocabquiz.service.ports` only."""
