"""`make bench`: the whole system end to end under a bot swarm, up a ladder of player
counts, beside an in-memory python-socketio server playing the same quiz (docs/bench.md)."""
