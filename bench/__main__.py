"""Ingest benchmark (issue 4): run with ``python -m bench`` (or ``./dev.sh bench``); writes a markdown report with
the machine it ran on to bench/results/.

1. Throughput: a real server process (gunicorn) over PostgreSQL, a load generator on the same machine posting
   ``--events`` events in batches of ``--batch`` to POST /api/v1/events from ``--clients`` devices at once; events
   per second, and the ratio to a COPY of the same rows into a table with the same unique keys, same run.
2. Latency: tap → history row committed (the answer comes after the commit), single-event requests at 50 events/s
   from a gate device while a second bulk load of the same size runs; p50 / p99 / max.
3. Rebuild: ``histories.rebuild`` of the busiest month from the events (``--workers`` workers); seconds, and the
   number of differences (0 means the fast path wrote exactly what a rebuild from the events gives).
"""
from __future__ import annotations

import argparse
import datetime
import http.client
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, text

from bench import world

TOKYO = ZoneInfo("Asia/Tokyo")
ROOT = Path(__file__).resolve().parent.parent


def events_for(codes: list[str], site: str, days: list[datetime.date], total: int, run: str, rng: random.Random):
    """A day's taps in time order (an entry around 8:00 and an exit around 17:30 per worker), day after day."""
    out = []
    for day in days:
        taps = []
        for code in codes:
            taps.append((datetime.datetime.combine(day, datetime.time(7), TOKYO)
                         + datetime.timedelta(seconds=rng.randrange(7200)), code, "entry"))
            taps.append((datetime.datetime.combine(day, datetime.time(17), TOKYO)
                         + datetime.timedelta(seconds=rng.randrange(7200)), code, "exit"))
        taps.sort()
        for at, code, kind in taps:
            out.append({"event_id": f"{run}-{len(out)}", "worker_id": code, "site_id": site, "kind": kind,
                        "time": at.isoformat(), "method": "API"})
            if len(out) == total:
                return out
    return out


class Server:
    def __init__(self, url: str, port: int, workers: int, threads: int):
        self.port = port
        instance = tempfile.mkdtemp(prefix="ccus-bench-")
        env = {**os.environ, "CCUS_DATABASE_URL": url, "CCUS_INSTANCE": instance,
               "CCUS_SECRET_KEY": "bench-secret-key-0123456789abcdef", "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", str(workers), "--worker-class", "gthread" if threads > 1 else "sync",
             "--threads", str(threads),
             "-b", f"127.0.0.1:{port}", "--log-level", "warning", "--timeout", "120", "--preload", "bench.wsgi:app"],
            env=env, cwd=ROOT)
        deadline = time.time() + 300  # the app's import alone takes half a minute on the machine shared by eight
        while time.time() < deadline:
            try:
                status, _b = post(port, "", b'{"events": []}')
                if status == 401:
                    return
            except OSError:
                time.sleep(0.3)
        self.stop()  # not left running, holding the port
        raise RuntimeError("server did not start")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


def post(port: int, key: str, body: bytes) -> tuple[int, bytes]:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        c.request("POST", "/api/v1/events", body=body, headers={"Authorization": f"Bearer {key}",
                                                                "Content-Type": "application/json"})
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def bulk(port: int, keys: list[str], events: list[dict], batch: int) -> tuple[float, dict]:
    """Post ``events`` in batches, batch i from device i mod len(keys), each device in order; (seconds, counts)."""
    bodies = [json.dumps({"events": events[i:i + batch]}).encode() for i in range(0, len(events), batch)]
    per_device = [[(i, b) for i, b in enumerate(bodies) if i % len(keys) == d] for d in range(len(keys))]
    counts = {"accepted": 0, "duplicate": 0, "rejected": 0}
    lock = threading.Lock()
    errors = []

    def device(d: int):
        for _i, body in per_device[d]:
            status, answer = post(port, keys[d], body)
            if status != 200:
                errors.append((status, answer[:200]))
                return
            got = json.loads(answer)
            with lock:
                for k in counts:
                    counts[k] += got[k]

    threads = [threading.Thread(target=device, args=(d,)) for d in range(len(keys))]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - start
    if errors:
        raise RuntimeError(f"bulk load failed: {errors[:3]}")
    return seconds, counts


def live_taps(port: int, key: str, codes: list[str], site: str, rate: float, stop: threading.Event,
              latencies: list[float]) -> None:
    """Single-event requests at ``rate`` per second: each one's time from sending to the committed answer."""
    rng = random.Random(7)
    n, start = 0, time.perf_counter()
    while not stop.is_set():
        due = start + n / rate
        pause = due - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        at = datetime.datetime.now(TOKYO) - datetime.timedelta(seconds=1)
        body = json.dumps({"events": [{"event_id": f"live-{n}", "worker_id": rng.choice(codes), "site_id": site,
                                       "kind": "entry", "time": at.isoformat(), "method": "API"}]}).encode()
        t0 = time.perf_counter()
        status, answer = post(port, key, body)
        latencies.append(time.perf_counter() - t0)
        if status != 200 or json.loads(answer)["accepted"] != 1:
            raise RuntimeError(f"live tap failed: {status} {answer[:200]}")
        n += 1


def copy_baseline(url: str, events: list[dict], site_pk: int, device_pk: int, worker_pks: dict) -> float:
    """COPY the same rows into a table with the same columns and unique keys; seconds."""
    import psycopg

    rows = []
    now = datetime.datetime.now(datetime.timezone.utc)
    for e in events:
        at = datetime.datetime.fromisoformat(e["time"])
        rows.append((device_pk, e["event_id"], site_pk, worker_pks[e["worker_id"]], e["worker_id"], None, e["kind"],
                     at, at.astimezone(TOKYO).date(), e["method"], None, now))
    conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))
    with conn.transaction():
        conn.execute("DROP TABLE IF EXISTS copy_target")
        conn.execute("CREATE TABLE copy_target (LIKE entry_exit_events INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
                     "INCLUDING INDEXES)")
    cols = ("device_id, device_event_id, site_id, worker_id, worker_code, credential_hash, kind, occurred_at, "
            "work_date, method, extras, received_at")
    start = time.perf_counter()
    with conn.transaction():
        with conn.cursor().copy(f"COPY copy_target ({cols}) FROM STDIN") as copy:
            for r in rows:
                copy.write_row(r)
    seconds = time.perf_counter() - start
    conn.close()
    return seconds


def cpu_seconds() -> dict:
    """CPU time used so far by the server's processes and the database's backends (from /proc; Linux)."""
    found = {"server": 0.0, "postgresql": 0.0}
    tick = os.sysconf("SC_CLK_TCK")
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        key = "server" if "gunicorn" in cmd and "bench.wsgi" in cmd else \
            "postgresql" if cmd.startswith("postgres: ") and "ccus_bench" in cmd else None
        if key:
            found[key] += (int(fields[11]) + int(fields[12])) / tick
    return found


def machine() -> dict:
    def sh(cmd):
        try:
            return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=10).stdout.strip()
        except Exception:  # noqa: BLE001
            return "?"

    return {
        "date": datetime.datetime.now(TOKYO).isoformat(timespec="seconds"),
        "cpu": sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").strip(),
        "cores": os.cpu_count(),
        "memory": sh("free -h | awk '/Mem:/ {print $2}'"),
        "load before": sh("cut -d' ' -f1-3 /proc/loadavg"),
        "os": platform.platform(),
        "python": platform.python_version(),
        "postgresql": sh("psql -h 127.0.0.1 -U postgres -tAc 'show server_version'"),
        "commit": sh(f"git -C {ROOT} rev-parse --short HEAD") or "(not a git checkout)",
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    p.add_argument("--admin-url", default=os.environ.get("CCUS_BENCH_ADMIN_URL",
                                                         "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    p.add_argument("--database", default="ccus_bench")
    p.add_argument("--events", type=int, default=200_000)
    p.add_argument("--batch", type=int, default=500)
    p.add_argument("--workers", type=int, default=3000, help="workers on the site's roster")
    p.add_argument("--clients", type=int, default=3, help="devices posting at once")
    p.add_argument("--server-workers", type=int, default=None,
                   help="gunicorn worker processes (default: one per bulk device and one for the gate's live taps)")
    p.add_argument("--threads", type=int, default=1, help="threads per gunicorn worker (more than 1: gthread)")
    p.add_argument("--rate", type=float, default=50.0, help="live taps per second during the second bulk load")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = p.parse_args(argv)
    if args.server_workers is None:
        args.server_workers = args.clients + 1

    info = machine()
    today = datetime.datetime.now(TOKYO).date()
    url = world.fresh_database(args.admin_url, args.database)
    print(f"seeding {args.workers} workers into {args.database} …", flush=True)
    w = world.build(url, args.workers, today)
    keys = world.register_devices(url, args.clients + 2)  # bulk devices, a second bulk's spare, the live gate
    codes = w["worker_codes"]
    per_day = 2 * len(codes)
    n_days = -(-args.events // per_day)
    rng = random.Random(20260501)
    days1 = [today - datetime.timedelta(days=n_days + 1 - i) for i in range(n_days)]  # ends yesterday
    days2 = [d - datetime.timedelta(days=n_days) for d in days1]  # the days before: a second run of equal size
    run1 = events_for(codes, w["site_code"], days1, args.events, "r1", rng)
    run2 = events_for(codes, w["site_code"], days2, args.events, "r2", rng)

    server = Server(url, args.port, args.server_workers, args.threads)
    try:
        print(f"run 1: {len(run1)} events, batches of {args.batch}, {args.clients} devices …", flush=True)
        cpu0, mine0 = cpu_seconds(), time.process_time()
        seconds1, counts1 = bulk(args.port, keys[:args.clients], run1, args.batch)
        cpu1, mine1 = cpu_seconds(), time.process_time()
        rate1 = len(run1) / seconds1
        batches = len(run1) / args.batch
        split = {k: (cpu1[k] - cpu0[k]) / batches * 1000 for k in cpu0}
        split["load generator"] = (mine1 - mine0) / batches * 1000
        print("  CPU per batch: " + ", ".join(f"{k} {v:.1f} ms" for k, v in split.items()), flush=True)
        print(f"  {rate1:,.0f} events/s ({seconds1:.1f} s) {counts1}", flush=True)
        replay_seconds, replay_counts = bulk(args.port, keys[:args.clients], run1[: 20 * args.batch], args.batch)
        print(f"  replay of {20 * args.batch}: {replay_counts}", flush=True)

        engine = create_engine(url)
        with engine.connect() as c:
            site_pk = c.execute(text("select id from sites where site_id = :s"), {"s": w["site_code"]}).scalar()
            device_pk = c.execute(text("select min(id) from devices")).scalar()
            worker_pks = dict(c.execute(text("select worker_id, id from workers")).all())
        engine.dispose()
        copy_seconds = copy_baseline(url, run1, site_pk, device_pk, worker_pks)
        copy_rate = len(run1) / copy_seconds
        print(f"COPY: {copy_rate:,.0f} rows/s ({copy_seconds:.1f} s); ratio {rate1 / copy_rate:.2f}", flush=True)

        print(f"run 2 with live taps at {args.rate}/s …", flush=True)
        latencies: list[float] = []
        stop = threading.Event()
        live = threading.Thread(target=live_taps, args=(args.port, keys[-1], codes, w["site_code"], args.rate, stop,
                                                        latencies))
        live.start()
        time.sleep(1.0)
        seconds2, counts2 = bulk(args.port, keys[:args.clients], run2, args.batch)
        stop.set()
        live.join()
        rate2 = len(run2) / seconds2
        q = statistics.quantiles(latencies, n=100) if len(latencies) >= 100 else [max(latencies)] * 99
        p50, p99 = statistics.median(latencies) * 1000, q[98] * 1000
        print(f"  bulk {rate2:,.0f} events/s; live taps {len(latencies)}: p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
              f"max {max(latencies) * 1000:.1f} ms", flush=True)
    finally:
        server.stop()

    from portal.history import histories
    from portal.app.db import ScopedSession
    from portal.people.scoping import ALL, using_scope

    month_counts: dict = {}
    for e in run1 + run2:
        month_counts[e["time"][:7]] = month_counts.get(e["time"][:7], 0) + 1
    month = max(month_counts, key=month_counts.get)
    engine = create_engine(url)
    with ScopedSession(engine) as s, using_scope(s, ALL):
        t0 = time.perf_counter()
        diffs = histories.rebuild(s, month)
        s.commit()
        rebuild_seconds = time.perf_counter() - t0
        n_hist = s.execute(text("select count(*) from work_histories where to_char(work_date, 'YYYY-MM') = :m"),
                           {"m": month}).scalar()
        total_events = s.execute(text("select count(*) from entry_exit_events")).scalar()
    engine.dispose()
    print(f"rebuild {month}: {n_hist} histories, {rebuild_seconds:.1f} s, {len(diffs)} differences", flush=True)

    ratio = rate1 / copy_rate
    info["load after"] = machine()["load before"]
    report = f"""# Ingest benchmark ({info['date']})

Command: `python -m bench --events {args.events} --batch {args.batch} --workers {args.workers} --clients {args.clients} --server-workers {args.server_workers} --threads {args.threads} --rate {args.rate}`

## Machine (same run)
| | |
|---|---|
""" + "\n".join(f"| {k} | {v} |" for k, v in info.items()) + f"""
| server | gunicorn --preload, {args.server_workers} workers × {args.threads} thread(s), PostgreSQL on the same machine (fresh database, no ANALYZE before the runs) |
| load generator | this process, same machine: {args.clients} devices posting at once, bodies serialised before timing |

## Results
| measure | value | target |
|---|---|---|
| run 1: {len(run1):,} events through POST /api/v1/events | **{rate1:,.0f} events/s** ({seconds1:.1f} s) | ≥ 20,000 |
| COPY of the same {len(run1):,} rows (same unique keys and indexes) | {copy_rate:,.0f} rows/s ({copy_seconds:.1f} s) | |
| ratio to COPY | **{ratio:.2f}** | ≥ 0.2 |
| CPU per batch of {args.batch} in run 1 (server processes, PostgreSQL backends, load generator) | {", ".join(f"{k} {v:.1f} ms" for k, v in split.items())} | |
| answers run 1 | {counts1} | all accepted |
| replay of the first {20 * args.batch:,} events | {replay_counts} | all duplicate |
| run 2: {len(run2):,} events while live taps run | {rate2:,.0f} events/s ({seconds2:.1f} s) | |
| tap → history committed at {args.rate:.0f} events/s during run 2 ({len(latencies)} taps) | p50 {p50:.1f} ms, **p99 {p99:.1f} ms**, max {max(latencies) * 1000:.1f} ms | p99 < 50 ms |
| rebuild of {month} from events ({n_hist:,} histories of {args.workers:,} workers; {total_events:,} events stored) | **{rebuild_seconds:.1f} s** | < 30 s |
| differences the rebuild found (fast path vs. rebuild from events) | {len(diffs)} | 0 |
"""
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"ingest-{datetime.datetime.now(TOKYO):%Y%m%d-%H%M%S}.md"
    path.write_text(report, encoding="utf-8")
    print(f"written {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
