#!/usr/bin/env python3
"""One source holding many KMS connections: what a hostile or broken machine on the lab network does.

Opens SLOTS TCP connections from SOURCE (e.g. 127.0.0.2; Linux routes all of 127/8 to lo) to HOST:PORT and sends
nothing on them. Each connection the node closes (refused at accept, or cut at the handshake timeout) is opened again
after a second. Runs until SIGTERM or SIGINT, printing one status line a second and a last one at the end.
The same behaviour as tests/KmsFarm.Node.Tests/ConnectionHog.cs, for bench/admission/run-flood-check.sh.

Usage: connection-hog.py HOST PORT SOURCE SLOTS
"""
import errno
import heapq
import resource
import selectors
import signal
import socket
import sys
import time

RECONNECT_DELAY = 1.0


def main():
    host, port, source, slots = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])

    # Each slot is a file descriptor; raise the soft limit as far as the hard one allows.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = slots + 256
    if soft != resource.RLIM_INFINITY and soft < wanted:
        new_soft = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new_soft, hard))
        if new_soft < wanted:
            print(f"hog: open-file limit {new_soft} < {wanted}; raise the hard limit (ulimit -Hn)", file=sys.stderr)
            sys.exit(2)

    selector = selectors.DefaultSelector()
    due = [(0.0, slot) for slot in range(slots)]  # (when, slot): slots waiting to (re)connect
    stats = {"connects": 0, "closed": 0, "open": 0, "errors": 0}
    stopping = False

    def stop(_signum, _frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    def report(prefix="hog"):
        print(f"{prefix}: {stats['open']} open, {stats['connects']} connects, {stats['closed']} closed by the node, "
              f"{stats['errors']} connect errors", file=sys.stderr, flush=True)

    last_report = time.monotonic()
    buffer = bytearray(512)
    while not stopping:
        now = time.monotonic()
        while due and due[0][0] <= now:
            _, slot = heapq.heappop(due)
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            try:
                sock.bind((source, 0))
                sock.connect_ex((host, port))
            except OSError:
                sock.close()
                stats["errors"] += 1
                heapq.heappush(due, (now + RECONNECT_DELAY, slot))
                continue
            selector.register(sock, selectors.EVENT_READ, slot)
            stats["connects"] += 1
            stats["open"] += 1

        timeout = 0.5 if not due else max(0.0, min(0.5, due[0][0] - now))
        for key, _ in selector.select(timeout):
            sock = key.fileobj
            try:
                if sock.recv_into(buffer) > 0:
                    continue  # a node never talks first; ignore and keep holding
            except BlockingIOError:
                continue
            except OSError as e:
                if e.errno not in (errno.ECONNRESET, errno.ECONNREFUSED, errno.EPIPE, errno.ETIMEDOUT):
                    raise
            selector.unregister(sock)
            sock.close()
            stats["open"] -= 1
            stats["closed"] += 1
            heapq.heappush(due, (time.monotonic() + RECONNECT_DELAY, key.data))

        if time.monotonic() - last_report >= 1:
            report()
            last_report = time.monotonic()

    report("hog (end)")


if __name__ == "__main__":
    main()
