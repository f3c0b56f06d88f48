"""Client side: the stock google-cloud-tasks client, aimed at the emulator.

Application code calls ``make_client(os.environ["CLOUD_TASKS_EMULATOR_HOST"])``
when that variable is set.  The channel is plaintext and carries no
credentials, so no Google account is needed locally.
"""

from __future__ import annotations

import grpc
from google.cloud import tasks_v2
from google.cloud.tasks_v2.services.cloud_tasks.transports import (
    CloudTasksGrpcTransport,
)


def make_client(host_port: str) -> tasks_v2.CloudTasksClient:
    """A CloudTasksClient talking to the emulator at ``host:port`` over insecure gRPC."""
    channel = grpc.insecure_channel(host_port)
    return tasks_v2.CloudTasksClient(transport=CloudTasksGrpcTransport(channel=channel))
