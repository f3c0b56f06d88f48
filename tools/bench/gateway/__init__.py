"""`python -m bench.gateway`: the gateway against bare `websockets` and python-socketio
on loopback: idle memory per socket, fan-out throughput, and a Cloud Run-sized load.

Load comes from separate client processes (bench.gateway.clients); each baseline server
runs in its own process (bench.gateway.servers); the gateway runs as `python -m gateway`
against a Pub/Sub emulator (bench.gateway.stack). See docs/bench-gateway.md.
"""
