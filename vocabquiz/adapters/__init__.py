"""Adapters to Google Cloud services (Firestore, Pub/Sub, Cloud Tasks), each beside an
in-memory twin for tests that need no emulator."""
