"""Floods a node's bus port with frames from an unknown sender, as fast as
the socket takes them, and prints the node's peak RSS during the flood.

usage: bus_flood.py BUS_PORT PID FRAMES pong|ping

pong: PONG frames, which the node answers with nothing, so only its input
side is under pressure. ping: PING frames, whose PONGs this peer never
reads, so the node's output towards it backs up too."""
import socket
import struct
import sys
import threading
import time

port, pid, frames, mode = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
BATCH = 1000


def frame(kind):
    """A 2256-byte clusterMsg PING (0) or PONG (1) (Redis 7.0 layout),
    sender ffff...f."""
    h = b"RCmb" + struct.pack(">IHHHH", 2256, 1, 7000, kind, 0)
    h += struct.pack(">QQQ", 1, 1, 0)
    h += b"f" * 40 + b"\0" * 2048 + b"\0" * 40 + b"127.0.0.1".ljust(46, b"\0")
    h += b"\0" * 32 + struct.pack(">HHHB", 0, 17000, 1, 0) + b"\0" * 3
    assert len(h) == 2256, len(h)
    return h


def rss_kib():
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


peak = [rss_kib()]
before = peak[0]
stop = threading.Event()


def sample():
    while not stop.is_set():
        peak[0] = max(peak[0], rss_kib())
        time.sleep(0.01)


s = socket.create_connection(("127.0.0.1", port))
threads = [threading.Thread(target=sample)]
for t in threads:
    t.start()
batch = frame({"ping": 0, "pong": 1}[mode]) * BATCH
start = time.time()
sent = 0
closed = False
try:
    for _ in range(frames // BATCH):
        s.sendall(batch)
        sent += BATCH
except OSError:
    closed = True
took = time.time() - start
time.sleep(1.0)
stop.set()
for t in threads:
    t.join()
print(
    f"mode={mode} frames_sent={sent} seconds={took:.2f} "
    f"rss_before_kib={before} peak_rss_kib={peak[0]} link_freed_by_node={closed}"
)
