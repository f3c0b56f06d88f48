"""Observability shared by the gateway and the functions: JSON log lines and tracing."""
