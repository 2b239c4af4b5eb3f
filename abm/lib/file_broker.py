"""The broker of the embedded default: kombu's filesystem transport, one file per message.

kombu's own ``_put`` creates the message file under its final name and then writes it, so a
worker listing the folder at that instant can take an empty file, fail to decode it and stop its
consumer. Here a message is written under a hidden name and renamed into place, which is atomic
on one filesystem: a worker sees whole messages or none. A folder removed while the stack runs
(``make clean``) is made again instead of failing every request and the worker. The scheme is
``abmfs://``.
"""

import os
import uuid
from queue import Empty
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

SCHEME = "abmfs"


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        # The name kombu gives: it sorts by time, and kombu's _get picks files by their suffix.
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = os.path.join(self.data_folder_out, f".{name}.partial")
        try:
            os.makedirs(self.data_folder_out, exist_ok=True)
            with open(partial, "wb") as file:
                file.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc

    def _get(self, queue):
        try:
            return super()._get(queue)
        except FileNotFoundError:  # the folder itself is gone
            os.makedirs(self.data_folder_in, exist_ok=True)
            raise Empty() from None

    def _size(self, queue):
        try:
            return super()._size(queue)
        except FileNotFoundError:
            os.makedirs(self.data_folder_in, exist_ok=True)
            return 0
        except OSError as exc:  # what a sender's outbox treats as "broker down"
            raise ChannelError(f"Cannot read {self.data_folder_in!r}") from exc


class Transport(filesystem.Transport):
    Channel = Channel
    driver_name = SCHEME


def register() -> None:
    TRANSPORT_ALIASES.setdefault(SCHEME, f"{__name__}:Transport")
