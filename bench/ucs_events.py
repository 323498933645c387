"""Benchmark what open UCS event channels cost a write (issue #11, acceptance 7).

Seeds a generated UCS estate with the real command line (``--chassis`` chassis of 8
blades), serves it with dcsim-ucs installed, and times a
configuration write through ``/nuova`` (``configConfMo`` modifying an org's ``descr``,
raw XML over one kept-alive connection) first with no event channel open, then with
``--channels`` channels (``eventSubscribe``) opened by the read-only account, each read
by a thread of this script. It checks that every channel received the writes' changes,
and prints both latencies and their ratio. Progress goes to stderr. See ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

from common import bench_env, finish, progress, rss_mb, seed, serve

ORG = "org-root/org-bench"


def main() -> int:
    args = _parse_args()
    dcsim = args.dcsim or str(Path(sys.executable).with_name("dcsim"))
    data_dir = Path(tempfile.mkdtemp(prefix="dcsim-bench-ucs-events-"))
    env = bench_env() | {"DCSIM_PLUGINS__UCS__EVENT_CHANNELS": str(args.channels)}
    os.environ["no_proxy"] = "127.0.0.1"
    rows: list[tuple[str, str]] = []
    server: subprocess.Popen[bytes] | None = None
    readers: list[Reader] = []
    try:
        progress(f"seeding into {data_dir}")
        seed(dcsim, data_dir, env, "--hosts", "1", "--clusters", "1", "--vms", "0", "--chassis", str(args.chassis))
        server, port, _ = serve(dcsim, data_dir, env, 600)
        admin = _login(port, "admin", "password")
        writer = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        _call(writer, f'<configConfMo cookie="{admin}" dn="{ORG}"><inConfig>'
                      f'<orgOrg dn="{ORG}" name="bench" status="created"/></inConfig></configConfMo>')  # fmt: skip
        counter = iter(range(10**9))

        def write() -> None:
            _call(writer, f'<configConfMo cookie="{admin}" dn="{ORG}"><inConfig>'
                          f'<orgOrg dn="{ORG}" descr="w{next(counter)}"/></inConfig></configConfMo>')  # fmt: skip

        for _ in range(args.warmup):
            write()
        progress(f"{args.writes} writes, no channel open")
        without = _timed(write, args.writes)
        time.sleep(1)

        progress(f"opening {args.channels} channels as the read-only account")
        watcher = _login(port, "readonly", "readonly")
        readers = [Reader(port, watcher) for _ in range(args.channels)]
        for reader in readers:
            reader.opened.wait(30)
        if not all(reader.opened.is_set() for reader in readers):
            raise SystemExit("not every channel opened")
        for _ in range(args.warmup):
            write()
        progress(f"{args.writes} writes, {args.channels} channels open")
        with_channels = _timed(write, args.writes)
        last = f"w{next(counter)}"
        _call(writer, f'<configConfMo cookie="{admin}" dn="{ORG}"><inConfig>'
                      f'<orgOrg dn="{ORG}" descr="{last}"/></inConfig></configConfMo>')  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not all(last in reader.descrs for reader in readers):
            time.sleep(0.1)
        delivered = sum(last in reader.descrs for reader in readers)
        if delivered != len(readers):
            raise SystemExit(f"only {delivered} of {len(readers)} channels received the last write")
        base, loaded = statistics.median(without), statistics.median(with_channels)
        rows += [
            (f"configConfMo, no channel (x{args.writes})", _figures(without)),
            (f"configConfMo, {args.channels} channels open (x{args.writes})", _figures(with_channels)),
            ("ratio of medians", f"{loaded / base:.2f}x"),
            ("ratio of means", f"{statistics.mean(with_channels) / statistics.mean(without):.2f}x"),
            ("channels that received every write's change", f"{delivered} of {len(readers)}"),
            ("RSS at the end", f"{rss_mb(server.pid):.0f} MB"),
        ]
        _call(writer, f'<aaaLogout cookie="{watcher}" inCookie="{watcher}"/>')
    finally:
        for reader in readers:
            reader.close()
        finish(server, data_dir, args.keep)
    width = max(len(label) for label, _ in rows)
    print(f"dc-sim UCS event channel benchmark: {args.chassis * 8} blades, {args.channels} channels")
    for label, value in rows:
        print(f"  {label:<{width}}  {value}")
    return 0


class Reader:
    """One event channel read by a thread: the ``descr`` values its records carried."""

    def __init__(self, port: int, cookie: str) -> None:
        self.opened = threading.Event()
        self.closing = False
        self.descrs: set[str] = set()
        self._connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self._thread = threading.Thread(target=self._read, args=(cookie,), daemon=True)
        self._thread.start()

    def _read(self, cookie: str) -> None:
        try:
            self._connection.request("POST", "/nuova", body=f'<eventSubscribe cookie="{cookie}"/>')
            stream = self._connection.getresponse()
            if stream.getheader("Content-Length") is not None:  # an error answer, not a channel
                raise SystemExit(f"eventSubscribe refused: {stream.read()[:300]!r}")
            self.opened.set()
            while line := stream.readline():
                vessel = ET.fromstring(stream.read(int(line)))
                self.descrs.update(e.get("descr", "") for e in vessel.iter("orgOrg"))
        except Exception:
            if not self.closing:  # closing the connection under the reading thread ends it
                raise

    def close(self) -> None:
        self.closing = True
        self._connection.close()


def _login(port: int, name: str, password: str) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        answer = _call(connection, f'<aaaLogin inName="{name}" inPassword="{password}"/>')
    finally:
        connection.close()
    return answer.get("outCookie", "")


def _call(connection: http.client.HTTPConnection, body: str) -> ET.Element:
    connection.request("POST", "/nuova", body=body)
    answer = ET.fromstring(connection.getresponse().read())
    if answer.get("errorCode"):
        raise SystemExit(f"{answer.tag}: {answer.get('errorCode')} {answer.get('errorDescr')}")
    return answer


def _timed(request: object, count: int) -> list[float]:
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        request()  # type: ignore[operator]
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def _figures(timings: list[float]) -> str:
    ordered = sorted(timings)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"p50 {statistics.median(ordered):.1f} ms, mean {statistics.mean(ordered):.1f} ms, p95 {p95:.1f} ms"


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=50, help="event channels to open (default 50)")
    parser.add_argument("--writes", type=int, default=200, help="writes per measurement (default 200)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed writes before each measurement")
    parser.add_argument("--chassis", type=int, default=4, help="generated chassis of 8 blades (default 4)")
    parser.add_argument("--dcsim", help="the dcsim command (default: the one next to this Python)")
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    return parser.parse_args()


if __name__ == "__main__":
    sys.exit(main())
