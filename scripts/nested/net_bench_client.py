#!/usr/bin/env python3
"""L1's side of the network benchmark (lib_bench_net.sh): TCP transfers to
and from the guest of scripts/guest/net_init.sh in its minivmm.bench mode,
timed by L1's monotonic clock.

  net_bench_client.py HOST SINK_PORT SOURCE_PORT DONE_PORT MIB REPS

Each of REPS rounds sends MIB MiB to the guest's sink (h2g) and reads MIB MiB
from its source (g2h); then one connection to DONE_PORT powers the guest off.
Prints one line a transfer,

  NETBENCH h2g|g2h MBps=X bytes=N secs=T

MB/s in 10^6 bytes a second. h2g runs from the sink's READY (its process is
up) to its answer (the guest has stored every byte), g2h from the first byte
to the close, so neither counts the guest's fork and exec. A transfer whose
byte count is wrong prints NETBENCH-FAIL and the exit status is 1: a
truncated transfer must never count as a fast one.

Python rather than busybox nc on this side: L1 runs under TCG, where nc's
small reads would cost more than the VMMs being compared.
"""
import socket
import sys
import time

CHUNK = 1 << 20


def h2g(host, port, total):
    with socket.create_connection((host, port), timeout=120) as s:
        f = s.makefile("rb")
        ready = f.readline()
        if ready != b"READY\n":
            raise RuntimeError(f"sink said {ready!r}, want READY")
        zeros = memoryview(bytes(CHUNK))
        start = time.monotonic()
        left = total
        while left > 0:
            n = min(left, CHUNK)
            s.sendall(zeros[:n])
            left -= n
        s.shutdown(socket.SHUT_WR)
        answer = f.read()
        secs = time.monotonic() - start
    try:
        got = int(answer.strip())
    except ValueError:
        raise RuntimeError(f"sink answered {answer!r}, want a byte count")
    return got, secs


def g2h(host, port):
    buf = bytearray(CHUNK)
    with socket.create_connection((host, port), timeout=120) as s:
        n = s.recv_into(buf)
        start = time.monotonic()
        first = n
        got = n
        while n > 0:
            n = s.recv_into(buf)
            got += n
        secs = time.monotonic() - start
    # The first read's bytes arrived before the clock started.
    return got, secs, first


def main():
    if len(sys.argv) != 7:
        sys.exit(__doc__.split("\n\n")[1])
    host = sys.argv[1]
    sink, source, done, mib, reps = (int(a) for a in sys.argv[2:])
    total = mib << 20
    ok = True
    for _ in range(reps):
        for direction in ("h2g", "g2h"):
            try:
                if direction == "h2g":
                    got, secs = h2g(host, sink, total)
                    timed = got
                else:
                    got, secs, first = g2h(host, source)
                    timed = got - first
            except (OSError, RuntimeError) as e:
                print(f"NETBENCH-FAIL {direction}: {e}", flush=True)
                ok = False
                continue
            if got != total:
                print(f"NETBENCH-FAIL {direction}: {got} bytes, want {total}", flush=True)
                ok = False
                continue
            print(f"NETBENCH {direction} MBps={timed / secs / 1e6:.1f} bytes={got} secs={secs:.3f}", flush=True)
    try:
        socket.create_connection((host, done), timeout=30).close()
    except OSError as e:
        print(f"NETBENCH-FAIL done: {e}", flush=True)
        ok = False
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
