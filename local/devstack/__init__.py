"""The local stack: every emulator and service of the system on one machine."""
