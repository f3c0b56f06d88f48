"""The quiz system's Python: the wire protocol, the pure domain, the service over narrow
ports, the cloud adapters with their in-memory twins, and observability.

Rooms, each importable alone:
- `vocabquiz.protocol`: every frame, its validation, the Pub/Sub envelope. No I/O.
- `vocabquiz.domain`: the game's rules over plain data. No cloud SDK.
- `vocabquiz.service`: `Game`, standings, the host API; they see only the ports.
- `vocabquiz.adapters`: Firestore, Pub/Sub, Cloud Tasks, and their memory twins.
- `vocabquiz.observability`: JSON logs and tracing.
"""
