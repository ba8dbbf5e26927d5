"""Throw random and mutated request frames at a real `fjord broker` process, then check that
a real client (confluent-kafka) still produces and consumes.

Frame kinds, in turn: random bytes behind a size prefix; a valid header of a served API
version followed by random bytes; a well-formed request of a served version with bytes
flipped, truncated or extended; and size prefixes that lie. Frames go over a few
connections; a connection the broker closes (Kafka's answer to a frame it cannot parse) is
replaced. The broker must never exit.

    .venv/bin/python bench/fuzz_broker.py [--frames 20000] [--seed 1] [--json]

Prints frames tried, connections the broker closed, crashes (must be 0), requests whose
handler raised (the broker logs those with their stack and closes that connection only:
each one is a place where bad input should get a Kafka error code instead) and whether
the client round trip worked afterwards.
"""

from __future__ import annotations

import argparse
import collections
import json
import random
import select
import socket
import struct
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from tests.support.broker import BrokerProcess
from tests.support.fuzz import SERVED, well_formed, with_body


def random_frame(rng: random.Random) -> tuple[bytes, bool]:
    """A frame, and whether its size prefix lies (the rest of that stream is then garbage:
    the next frames would be swallowed as its body, so the connection is not reused)."""
    kind = rng.randrange(4)
    if kind == 0:  # anything at all
        body = rng.randbytes(rng.randrange(0, 200))
        return struct.pack(">i", len(body)) + body, False
    key, version = rng.choice(SERVED)
    if kind == 1:  # a real header, a random body
        body = with_body(key, version, rng.randbytes(rng.randrange(0, 200)), rng.randrange(1 << 20))
        return struct.pack(">i", len(body)) + body, False
    frame = bytearray(well_formed(key, version, rng.randrange(1 << 20)))
    if kind == 2:  # a real request with a few bytes flipped (the size prefix kept)
        for _ in range(rng.randrange(1, 6)):
            frame[rng.randrange(4, len(frame))] = rng.randrange(256)
        return bytes(frame), False
    body = bytes(frame[4:])  # truncated or extended, the size prefix telling the truth
    body = body[: rng.randrange(len(body))] if rng.random() < 0.5 else body + rng.randbytes(8)
    if rng.random() < 0.1:  # or lying about it
        return struct.pack(">i", rng.choice([-1, 0, 1 << 30, len(body) + 5])) + body, True
    return struct.pack(">i", len(body)) + body, False


class Link:
    """One client connection that reads whatever comes back without blocking the sender."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.sock.setblocking(False)

    def send(self, frame: bytes) -> bool:
        try:
            self.sock.setblocking(True)
            self.sock.settimeout(5)
            self.sock.sendall(frame)
            return True
        except OSError:
            return False
        finally:
            self.sock.setblocking(False)

    def drain(self, wait: float = 0.0) -> int | None:
        """Bytes read (waiting up to `wait` seconds for the first), or None when the broker
        closed the connection."""
        total = 0
        if wait and not select.select([self.sock], [], [], wait)[0]:
            return 0
        while True:
            try:
                chunk = self.sock.recv(65536)
            except BlockingIOError:
                return total
            except OSError:
                return None
            if not chunk:
                return None
            total += len(chunk)

    def close(self) -> None:
        self.sock.close()


def reconnect(broker: BrokerProcess, recent: collections.deque[bytes], number: int) -> Link:
    try:
        return Link(broker.port)
    except OSError:
        heads = [struct.unpack(">hh", h) for h in recent if len(h) == 4]
        print(f"broker not accepting after frame {number}; last (key, version) sent: "
              f"{heads}\n{broker.log_tail()}", file=sys.stderr)
        raise


def client_round_trip(bootstrap: str) -> bool:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic("after-fuzz", 1, 1)])["after-fuzz"].result(30)
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
    for i in range(100):
        producer.produce("after-fuzz", b"value-%d" % i)
    if producer.flush(30) != 0:
        return False
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "after-fuzz",
                         "enable.auto.commit": False})
    consumer.assign([TopicPartition("after-fuzz", 0, 0)])
    got: list[bytes] = []
    deadline = time.monotonic() + 30
    while len(got) < 100 and time.monotonic() < deadline:
        got += [m.value() for m in consumer.consume(100, 0.5) if m.error() is None]
    consumer.close()
    return got == [b"value-%d" % i for i in range(100)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    closed = responses = crashes = unanswered = 0
    recent: collections.deque[bytes] = collections.deque(maxlen=16)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="fjord-fuzz-") as tmp:
        broker = BrokerProcess(Path(tmp) / "data", {"socket.request.max.bytes": "1048576"})
        broker.start()
        try:
            links = [Link(broker.port) for _ in range(args.connections)]
            for number in range(args.frames):
                slot = number % len(links)
                link = links[slot]
                frame, lies = random_frame(rng)
                recent.append(frame[4:8])
                sent = link.send(frame)
                # Wait for the broker's answer (or its closing the connection) so that every
                # frame is really parsed, not lost behind a connection it already closed.
                got = link.drain(wait=0.2) if sent else None
                if got == 0 or lies:  # no answer (acks=0, a long poll) or a lying size
                    unanswered += got == 0
                    link.close()
                    links[slot] = reconnect(broker, recent, number)
                    continue
                if got is None:
                    closed += 1
                    link.close()
                    if not broker.alive():
                        crashes += 1
                        print(f"broker exited after frame {number}:\n{broker.log_tail()}",
                              file=sys.stderr)
                        broker.start()
                    links[slot] = reconnect(broker, recent, number)
                else:
                    responses += got
            time.sleep(0.5)
            for link in links:
                link.drain()
                link.close()
            alive = broker.alive()
            crashes += 0 if alive else 1
            client_ok = alive and client_round_trip(broker.bootstrap)
            log = broker.log_path.read_text(errors="replace")
            internal = log.count("after an internal error")
            for block in log.split("after an internal error")[1:]:
                print("handler exception:" + "\n".join(block.splitlines()[:40]), file=sys.stderr)
            kinds: dict[str, int] = {}
            for line in log.splitlines():
                if line.startswith(("AttributeError", "TypeError", "KeyError", "ValueError",
                                    "IndexError", "AssertionError", "OverflowError")):
                    kinds[line.split(":")[0]] = kinds.get(line.split(":")[0], 0) + 1
        finally:
            broker.stop()
    figures = {"frames": args.frames, "connections_closed_by_broker": closed,
               "frames_without_answer_in_200ms": unanswered,
               "response_bytes_read_meanwhile": responses, "crashes": crashes,
               "handler_exceptions": internal, "handler_exception_types": kinds,
               "client_round_trip_after": client_ok, "seconds": round(time.monotonic() - started, 1)}
    if args.json:
        print(json.dumps(figures))
    else:
        for name, value in figures.items():
            print(f"{name:30} {value}")
    return 0 if crashes == 0 and client_ok else 1


if __name__ == "__main__":
    sys.exit(main())
