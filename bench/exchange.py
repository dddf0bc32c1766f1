"""Benchmark of document exchange between two Liên Thông servers on loopback.

Two real server processes (``lienthong serve``), federated with each other; N signed 1 MB PDFs sent
from A to an agency on B through A's API. Each arrival is fully validated by B (hard-fail
revocation, modification analysis) and answered with a receipt signed by B's seal, which A
verifies before it records "01 arrived". Reported per database (SQLite, PostgreSQL) and per file
kind (``bt``: one B-T signature; ``pair``: leader B-T + agency seal B-LT): documents delivered per
second (first send to last "01") and p50/p95 latency from the send's answer to "01" (seen on A's
realtime channel).

Usage: ``python -m bench.exchange [--quick] [--n N] [--db sqlite,postgres] [--kind bt,pair]``.
The last line printed is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp

A_PROV, A_AGENCY = "000.00.00.H98", "000.00.10.H98"
B_PROV, B_AGENCY = "000.00.00.H97", "000.00.10.H97"
PG = "postgresql+asyncpg://postgres@127.0.0.1:5432"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and of every process below it so far (Linux
    ``/proc``; 0.0 elsewhere): the server's own, its signature-checking worker processes' (and
    their forkserver's) while they live, and the children each has already reaped."""
    return sum(_own_cpu(p, reaped=True) for p in _tree(pid))


def _own_cpu(pid: int, *, reaped: bool = False) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if reaped:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / os.sysconf("SC_CLK_TCK")


def _tree(root: int) -> list[int]:
    """``root`` and its living descendants."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat[1])
    found, frontier = [root], [root]
    while frontier:
        frontier = [pid for pid, parent in parents.items() if parent in frontier]
        found.extend(frontier)
    return found


def _pg_backends(db_names: list[str]) -> dict[int, float]:
    """CPU seconds of the PostgreSQL backends serving ``db_names`` (their process titles name
    the database), by process id."""
    out: dict[int, float] = {}
    if not db_names:
        return out
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if title.startswith("postgres:") and any(f" {n} " in title for n in db_names):
            out[int(entry.name)] = _own_cpu(int(entry.name))
    return out


def _wait_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing answers on port {port}")


async def _signed_files(pki: Any, work: Path) -> dict[str, bytes]:
    from server.secret import Secret
    from signing.pades import Level, SignOptions, sign_pdf_async
    from signing.sample import make_sample_pdf
    from signing.stamps import Role as StampRole
    from signing.tokens import pkcs12_signer
    from signing.trust import load_cert_files

    roots = load_cert_files([pki.root_pem])
    base = make_sample_pdf(padding_kb=1024)

    async def sign(data: bytes, who: str, level: Level) -> bytes:
        signer = pkcs12_signer(pki.p12(who), Secret(pki.p12_password))
        options = SignOptions(
            level=level, tsa_url=pki.tsa_url, role=StampRole.INVISIBLE, trust_roots=roots
        )
        signed, _ = await sign_pdf_async(data, signer, options)
        return signed

    bt = await sign(base, "agency", Level.B_T)
    pair = await sign(await sign(base, "leader", Level.B_T), "agency", Level.B_LT)
    return {"bt": bt, "pair": pair}


async def _seed(url: str, rows: list[Any], people: list[tuple[str, str]]) -> dict[str, str]:
    from server.accounts.agencies import import_rows_txn
    from server.accounts.passwords import hash_password
    from server.accounts.tokens import create_token_txn
    from server.accounts.users import create_user_txn
    from server.auth.principal import Role
    from server.db import Database

    db = Database(url)
    hashed = hash_password("bench-password-1")

    async def run(session: Any) -> dict[str, str]:
        await import_rows_txn(session, rows)
        tokens = {}
        for login, agency in people:
            user = await create_user_txn(
                session,
                login=login,
                full_name=login,
                agency_code=agency,
                roles=frozenset({Role.CLERK}),
                password_hash=hashed,
            )
            tokens[login], _ = await create_token_txn(session, user.id, name="bench")
        return tokens

    try:
        return await db.write("bench_seed", run)
    finally:
        await db.close()


def _toml(me: str, seal: Path, peer: str, url: str, token_env: str, login: str,
          agencies: list[str], deliver_to: list[str], cert: Path) -> str:  # fmt: skip
    return (
        f'server_id = "{me}"\nseal_p12 = "{seal}"\nseal_password_env = "BENCH_SEAL_PASSWORD"\n'
        "poll_seconds = 0.5\nmax_backoff = 2.0\nlease_seconds = 30.0\n\n[[peers]]\n"
        f'name = "{peer}"\nurl = "{url}"\ntoken_env = "{token_env}"\nlogin = "{login}"\n'
        f"agencies = {json.dumps(agencies)}\ndeliver_to = {json.dumps(deliver_to)}\n"
        f'seal_cert = "{cert}"\n'
    )


async def _pg(sql: str) -> None:
    import asyncpg  # type: ignore[import-untyped]

    conn = await asyncpg.connect(user="postgres", host="127.0.0.1", port=5432, database="postgres")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


_PROFILED_SERVE = """
import cProfile, sys, time
from lienthong.cli import main
profiler = cProfile.Profile(time.thread_time)
try:
    profiler.runcall(main, ["serve"])
finally:
    profiler.dump_stats(sys.argv[1])
"""


def _serve_command(profile_dir: Path | None, name: str) -> list[str]:
    """``lienthong serve``, under cProfile (stats written at shutdown) with ``--profile``."""
    if profile_dir is None:
        return [sys.executable, "-m", "lienthong.cli", "serve"]
    profile_dir.mkdir(parents=True, exist_ok=True)
    return [sys.executable, "-c", _PROFILED_SERVE, str(profile_dir / f"{name}.prof")]


class Pair:
    """Two federated server processes with their data directories and databases."""

    def __init__(
        self,
        work: Path,
        pki: Any,
        db_kind: str,
        profile_dir: Path | None = None,
        validation: str = "fast",
    ) -> None:
        self.work, self.pki, self.db_kind = work, pki, db_kind
        self.validation = validation
        """``fast`` (ours) or ``stock`` (pyHanko alone: ``LIENTHONG_VALIDATION=stock``)."""
        self.profile_dir = profile_dir
        self.responder: subprocess.Popen[bytes] | None = None
        """The OCSP/CRL/TSA responder, to count its CPU time too."""
        self.ports = {"a": _free_port(), "b": _free_port()}
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.pg_names: list[str] = []
        self.tokens: dict[str, dict[str, str]] = {}

    def data_dir(self, side: str) -> Path:
        return self.work / f"{self.db_kind}-{self.validation}-{side}"

    def url(self, side: str) -> str:
        return f"http://127.0.0.1:{self.ports[side]}"

    async def start(self) -> None:
        from lienthong.app import MIGRATION_DIRS
        from server.accounts.agencies import AgencyRow
        from server.db.migrate import upgrade
        from signing.trust import TrustStore

        env = dict(os.environ)
        db_urls = {}
        for side in ("a", "b"):
            data = self.data_dir(side)
            data.mkdir(parents=True)
            TrustStore(data / "trust").add(self.pki.root_pem.read_bytes(), "dev root")
            if self.db_kind == "postgres":
                name = f"lt_bench_{side}_{uuid.uuid4().hex[:8]}"
                await _pg(f'CREATE DATABASE "{name}"')
                self.pg_names.append(name)
                db_urls[side] = f"{PG}/{name}"
            else:
                db_urls[side] = f"sqlite+aiosqlite:///{data / 'lienthong.db'}"
            await asyncio.to_thread(upgrade, db_urls[side], MIGRATION_DIRS)
        self.tokens["a"] = await _seed(
            db_urls["a"],
            [AgencyRow(A_PROV, "UBND tỉnh A", None, 1), AgencyRow(A_AGENCY, "Sở A", A_PROV, 2)],
            [("vt_a", A_AGENCY), ("peer.b", A_PROV)],
        )
        self.tokens["b"] = await _seed(
            db_urls["b"],
            [AgencyRow(B_PROV, "UBND tỉnh B", None, 1), AgencyRow(B_AGENCY, "Sở B", B_PROV, 2)],
            [("vt_b", B_AGENCY), ("peer.a", B_PROV)],
        )
        pki = self.pki
        (self.data_dir("a") / "federation.toml").write_text(
            _toml(
                "a",
                pki.p12("agency"),
                "b",
                self.url("b"),
                "BENCH_TOKEN_ON_B",
                "peer.b",
                [B_AGENCY],
                [A_AGENCY],
                pki.cert("clerk"),
            ),
            encoding="utf-8",
        )
        (self.data_dir("b") / "federation.toml").write_text(
            _toml(
                "b",
                pki.p12("clerk"),
                "a",
                self.url("a"),
                "BENCH_TOKEN_ON_A",
                "peer.a",
                [A_AGENCY],
                [B_AGENCY],
                pki.cert("agency"),
            ),
            encoding="utf-8",
        )
        env.update(
            BENCH_SEAL_PASSWORD=pki.p12_password,
            BENCH_TOKEN_ON_B=self.tokens["b"]["peer.a"],
            BENCH_TOKEN_ON_A=self.tokens["a"]["peer.b"],
            LIENTHONG_LOG_LEVEL="WARNING",
            LIENTHONG_HOST="127.0.0.1",
            LIENTHONG_VALIDATION=self.validation,
            # no separate briefing media processes: this bench is about documents
            LIENTHONG_BRIEFINGS_WORKERS="1",
        )
        for side in ("a", "b"):
            data = self.data_dir(side)
            side_env = {
                **env,
                "LIENTHONG_DATA_DIR": str(data),
                "LIENTHONG_PORT": str(self.ports[side]),
                "LIENTHONG_DATABASE_URL": db_urls[side],
            }
            with (data / "server.log").open("ab") as log:
                self.procs[side] = await asyncio.to_thread(
                    subprocess.Popen,
                    _serve_command(self.profile_dir, f"{self.db_kind}-{self.validation}-{side}"),
                    env=side_env,
                    stdout=log,
                    stderr=log,
                )
        for side in ("a", "b"):
            await asyncio.to_thread(_wait_port, self.ports[side])

    async def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        for name in self.pg_names:
            await _pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _run_once(pair: Pair, pdf: bytes, n: int, concurrency: int) -> dict[str, Any]:
    token = pair.tokens["a"]["vt_a"]
    headers = {"Authorization": f"Bearer {token}"}
    sent_at: dict[str, float] = {}
    arrived_at: dict[str, float] = {}
    done = asyncio.Event()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=600)) as session:
        ws = await session.ws_connect(pair.url("a") + "/api/v1/realtime", headers=headers)
        await ws.send_json({"op": "subscribe", "channels": {f"agency:{A_AGENCY}": None}})

        async def listen() -> None:
            async for msg in ws:
                event = json.loads(msg.data)
                data = event.get("data") or {}
                if event.get("type") == "document.status" and data.get("status") == "01":
                    arrived_at.setdefault(data["id"], time.perf_counter())
                    if len(arrived_at) >= n and len(sent_at) >= n:
                        done.set()

        listener = asyncio.create_task(listen())
        await asyncio.sleep(0.1)  # let the subscription settle before the first send
        gate = asyncio.Semaphore(concurrency)

        async def send(i: int) -> None:
            form = aiohttp.FormData()
            meta = {
                "number": str(i),
                "notation": "BENCH",
                "subject": f"Văn bản {i}",
                "to": [B_AGENCY],
            }
            form.add_field("metadata", json.dumps(meta, ensure_ascii=False))
            form.add_field("main", pdf, filename="vb.pdf", content_type="application/pdf")
            async with (
                gate,
                session.post(
                    pair.url("a") + "/api/v1/documents", data=form, headers=headers
                ) as resp,
            ):
                body = await resp.json()
                if resp.status != 201:
                    log = pair.data_dir("a") / "server.log"
                    tail = log.read_text(errors="replace")[-4000:] if log.exists() else ""
                    raise RuntimeError(f"send refused: {body}\n{tail}")
                sent_at[body["id"]] = time.perf_counter()

        procs = {**pair.procs, **({"responder": pair.responder} if pair.responder else {})}
        cpu_before = {side: _cpu_seconds(proc.pid) for side, proc in procs.items()}
        pg_before = _pg_backends(pair.pg_names)
        bench_cpu = time.process_time()
        start = time.perf_counter()
        await asyncio.gather(*(send(i) for i in range(n)))
        if len(arrived_at) < n:
            await asyncio.wait_for(done.wait(), timeout=600)
        end = max(arrived_at.values())
        cpu = {side: _cpu_seconds(proc.pid) - cpu_before[side] for side, proc in procs.items()}
        cpu["bench"] = time.process_time() - bench_cpu
        pg_after = _pg_backends(pair.pg_names)
        cpu["postgres"] = sum(t - pg_before.get(pid, 0.0) for pid, t in pg_after.items())
        listener.cancel()
        await ws.close()
    latencies = sorted((arrived_at[k] - sent_at[k]) * 1000 for k in sent_at)
    p95 = latencies[min(len(latencies) - 1, round(0.95 * (len(latencies) - 1)))]
    return {
        "n": n,
        "docs_per_s": round(n / (end - start), 2),
        "p50_ms": round(statistics.median(latencies), 1),
        "p95_ms": round(p95, 1),
        "wall_s": round(end - start, 2),
        "cpu_ms_per_doc_a": round(cpu.get("a", 0.0) * 1000 / n, 1),
        "cpu_ms_per_doc_b": round(cpu.get("b", 0.0) * 1000 / n, 1),
        "cpu_ms_per_doc_responder": round(cpu.get("responder", 0.0) * 1000 / n, 1),
        "cpu_ms_per_doc_bench": round(cpu["bench"] * 1000 / n, 1),
        "cpu_ms_per_doc_postgres": round(cpu["postgres"] * 1000 / n, 1),
    }


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    from signing.devpki import create_dev_pki

    work = Path(tempfile.mkdtemp(prefix="lt-bench-exchange-"))
    responder: subprocess.Popen[bytes] | None = None
    results: list[dict[str, Any]] = []
    try:
        port = _free_port()
        pki = await asyncio.to_thread(create_dev_pki, work / "pki", port, with_token=False)
        responder = await asyncio.to_thread(
            subprocess.Popen,
            [sys.executable, "-m", "signing.cli", "dev-pki", "serve", "--dir", str(pki.dir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        await asyncio.to_thread(_wait_port, port)
        files = await _signed_files(pki, work)
        modes = ["fast", "stock"] if args.stock else ["fast"]
        for db_kind in args.db:
            pairs = [Pair(work, pki, db_kind, args.profile, mode) for mode in modes]
            try:
                for pair in pairs:
                    pair.responder = responder
                    await pair.start()
                for kind in args.kind:
                    for pair in pairs:  # ours and stock pyHanko back to back, same load
                        # warm-up: connection pools, prepared statements, the verifier's
                        # context and path cache, so the figure is the steady state
                        await _run_once(pair, files[kind], args.warmup, args.concurrency)
                        figures = await _run_once(pair, files[kind], args.n, args.concurrency)
                        row = {
                            "db": db_kind,
                            "kind": kind,
                            "validation": pair.validation,
                            "size_kb": len(files[kind]) // 1024,
                            **figures,
                        }
                        print(
                            f"{db_kind:<9} {kind:<5} {pair.validation:<5} {row['size_kb']} KB  "
                            f"n={row['n']:<4} {row['docs_per_s']:>6} docs/s  "
                            f"p50 {row['p50_ms']:>7} ms  p95 {row['p95_ms']:>7} ms  "
                            f"CPU/doc A {row['cpu_ms_per_doc_a']} ms B {row['cpu_ms_per_doc_b']} ms",
                            flush=True,
                        )
                        results.append(row)
            finally:
                for pair in pairs:
                    await pair.stop()
    finally:
        if responder is not None:
            responder.terminate()
            responder.wait(10)
        shutil.rmtree(work, ignore_errors=True)
    return {"bench": "exchange", "results": results}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.exchange")
    parser.add_argument("--quick", action="store_true", help="few documents, SQLite, B-T only")
    parser.add_argument("--n", type=int, default=60)
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--kind", default="bt,pair")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=8, help="documents sent before measuring")
    parser.add_argument(
        "--stock",
        action="store_true",
        help="also run a pair of servers validating with stock pyHanko, for comparison",
    )
    parser.add_argument(
        "--profile", type=Path, default=None, help="run the servers under cProfile, stats here"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.n, args.db, args.kind = 8, "sqlite", "bt"
    args.db = [d for d in args.db.split(",") if d]
    args.kind = [k for k in args.kind.split(",") if k]
    summary = asyncio.run(main_async(args))
    print(json.dumps(summary, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
