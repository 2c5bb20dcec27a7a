"""A child for tests/test_children.py, started as `python -m tests.children_probe`.

It says ready, then answers frames: echo a value and body, sleep, exit, or send what a
taken-over child might (a pickle that writes a file when unpickled). `no-prctl` as the
first argument takes the kernel's parent-death signal away, so the fallback ties it.
"""

from __future__ import annotations

import os
import sys
import time
from multiprocessing.connection import Connection

from publisher import children
from publisher.children import tie


class Boom:
    """Unpickling this creates a file: the proof that a parent ran what a child sent."""

    def __init__(self, path: str):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def main(argv: list[str]) -> None:
    if argv[2:3] == ["no-prctl"]:
        tie._prctl = lambda: None
    channel, _ = children.attach(argv)
    channel.send({"kind": "ready", "pid": os.getpid()})
    while True:
        try:
            header, body = channel.receive()
        except children.Gone:
            return
        if header["do"] == "echo":
            channel.send({"echo": header["value"]}, body)
        elif header["do"] == "sleep":
            time.sleep(header["seconds"])
            channel.send({"slept": header["seconds"]})
        elif header["do"] == "exit":
            os._exit(header["code"])
        elif header["do"] == "pickle":  # framed as multiprocessing's Connection.send frames
            Connection(os.dup(channel.fileno())).send(Boom(header["path"]))
        elif header["do"] == "raw":
            os.write(channel.fileno(), bytes.fromhex(header["hex"]))


if __name__ == "__main__":
    main(sys.argv[1:])
