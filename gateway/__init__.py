"""The WebSocket gateway: holds connections and relays frames, computing nothing."""
