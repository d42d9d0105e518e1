#!/usr/bin/env python3
"""Build and run a real, embedded Neo4j Community server for tests and CI.

Stdlib only, so it works before any project dependency is installed. The Java side
(``Neo4jLauncher``) serves Bolt on 127.0.0.1 only, with authentication disabled.

Library::

    from launcher import start
    with start() as server:          # builds on first use (Maven), then ~7 s to READY
        driver = neo4j.GraphDatabase.driver(server.uri, auth=None)

CLI::

    python tools/neo4j/launcher.py build
    python tools/neo4j/launcher.py start [--port N] [--data DIR] [--pidfile F] [--urifile F]
    python tools/neo4j/launcher.py stop --pidfile F
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator, Optional, Sequence

HERE = Path(__file__).resolve().parent
POM = HERE / "pom.xml"
TARGET = HERE / "target"
LIB = TARGET / "lib"
CLASSES = TARGET / "classes"
STAMP = TARGET / ".build-stamp"
MAIN_CLASS = "io.prodready.tools.neo4j.Neo4jLauncher"
HOST = "127.0.0.1"
LOG_NAME = "launcher.log"
TEMP_PREFIX = "neo4j-test-"

# Small heap (tests share a 2-core box); the --add-opens flags let Neo4j use its fast
# page-cache / native-IO paths instead of logging fallback warnings.
DEFAULT_JVM_ARGS: tuple[str, ...] = (
    "-Xms128m",
    "-Xmx512m",
    "-XX:+UseSerialGC",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
)
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_LIVE: "set[Neo4jServer]" = set()


class LauncherError(RuntimeError):
    """Build/start failure; the first line is a one-line summary, then any output tail."""


def _progress(msg: str) -> None:
    """Progress goes to stderr so stdout stays machine-readable (the CLI prints the URI)."""
    print(f"neo4j: {msg}", file=sys.stderr, flush=True)


def _tail(text: str, lines: int = 25) -> str:
    """Last non-blank lines of tool output, colour codes stripped, for error messages."""
    cleaned = [_ANSI.sub("", ln).rstrip() for ln in text.splitlines()]
    kept = [ln for ln in cleaned if ln and ln != "[ERROR]"]
    return "\n".join(kept[-lines:]) or "(no output)"


def _source_digest() -> str:
    """Hash of everything that affects the build, so an edited pom/launcher triggers a rebuild."""
    h = hashlib.sha256()
    for path in [POM, *sorted((HERE / "src").rglob("*.java"))]:
        h.update(str(path.relative_to(HERE)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def _find_java() -> str:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").is_file():
        return str(Path(java_home) / "bin" / "java")
    java = shutil.which("java")
    if not java:
        raise LauncherError("neo4j launcher: java not found (install a JDK 17+, e.g. openjdk-17-jdk-headless)")
    return java


@contextlib.contextmanager
def _build_lock() -> Iterator[None]:
    """Serialise concurrent builds (e.g. pytest-xdist workers) on one file lock."""
    TARGET.mkdir(parents=True, exist_ok=True)
    with open(TARGET / ".build.lock", "w") as fh:
        try:
            import fcntl
        except ImportError:  # non-POSIX: no lock, builds are still idempotent
            yield
            return
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def classpath() -> str:
    """The java -cp value for a finished build."""
    return f"{CLASSES}{os.pathsep}{LIB / '*'}"


def build(quiet: bool = True, timeout: float = 1800) -> Path:
    """Run Maven only if target/ is missing or stale; return the target dir (classes/ + lib/)."""
    with _build_lock():
        digest = _source_digest()
        if LIB.is_dir() and (CLASSES / "io").is_dir() and STAMP.is_file() and STAMP.read_text().strip() == digest:
            return TARGET
        mvn = shutil.which("mvn")
        if not mvn:
            raise LauncherError("neo4j launcher: mvn not found (install maven, e.g. apt-get install maven)")
        _find_java()
        cmd = [mvn, "-B", "-Dstyle.color=never", "-f", str(POM)]
        cmd += ["-q", "package"] if quiet else ["package"]
        if LIB.is_dir():
            shutil.rmtree(LIB)  # drop jars of an older pom
        _progress("resolving jars with maven (first run ~1-2 min, ~120 MB download)...")
        t0 = time.monotonic()
        try:
            proc = subprocess.run(
                cmd, cwd=HERE, stdin=subprocess.DEVNULL, timeout=timeout, text=True,
                stdout=subprocess.PIPE if quiet else sys.stderr,
                stderr=subprocess.STDOUT if quiet else sys.stderr,
            )
        except subprocess.TimeoutExpired as exc:
            raise LauncherError(f"neo4j launcher: maven timed out after {timeout:.0f}s") from exc
        if proc.returncode != 0:
            raise LauncherError(
                f"neo4j launcher: maven failed (exit {proc.returncode}):\n{_tail(proc.stdout or '')}"
            )
        STAMP.write_text(digest + "\n")
        _progress(f"built launcher in {time.monotonic() - t0:.1f}s ({len(list(LIB.glob('*.jar')))} jars)")
        return TARGET


def free_port() -> int:
    """Ask the kernel for an unused loopback port (tiny race until Java binds it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _is_launcher(pid: int) -> bool:
    """Guard against killing an unrelated process that reused a stale pid."""
    try:
        return MAIN_CLASS.encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return False
    except OSError:  # no /proc (non-Linux): fall back to "does it exist"
        try:
            os.kill(pid, 0)
            return True
        except OSError:
            return False


def _kill_group(pid: int, grace: float) -> None:
    """SIGTERM the process group (clean Neo4j shutdown), SIGKILL it after `grace` seconds."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not _is_launcher(pid):  # gone (or a zombie: its cmdline is empty)
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
    for _ in range(50):
        if not _is_launcher(pid):
            return
        time.sleep(0.1)


class Neo4jServer:
    """A running launcher process; stop() or leave the `with` block to shut it down."""

    def __init__(self, proc: subprocess.Popen, port: int, data_dir: Path, owns_data: bool) -> None:
        self._proc = proc
        self.port = port
        self.pid = proc.pid
        self.uri = f"bolt://{HOST}:{port}"
        self.data_dir = data_dir
        self.log_path = data_dir / LOG_NAME
        self._owns_data = owns_data

    def stop(self, grace: float = 30) -> None:
        """Idempotent; removes the data dir only if start() created it."""
        if self._proc.poll() is None:
            _kill_group(self.pid, grace)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(timeout=5)
        if self._proc.stdin:
            with contextlib.suppress(OSError):
                self._proc.stdin.close()
        _LIVE.discard(self)
        if self._owns_data:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> "Neo4jServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"Neo4jServer(uri={self.uri!r}, pid={self.pid}, data_dir={str(self.data_dir)!r})"


@atexit.register
def _stop_leftovers() -> None:
    for server in list(_LIVE):
        server.stop(grace=10)


def _wait_ready(proc: subprocess.Popen, log_path: Path, timeout: float) -> Optional[str]:
    """Return the READY uri, or None if the process died; raise on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        text = log_path.read_text(errors="replace") if log_path.exists() else ""
        for line in text.splitlines():
            if line.startswith("READY "):
                return line.split(" ", 1)[1].strip()
        if proc.poll() is not None:
            return None
        if time.monotonic() > deadline:
            _kill_group(proc.pid, grace=5)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)
            raise LauncherError(
                f"neo4j launcher: server not ready after {timeout:.0f}s; last output:\n{_tail(text)}"
            )
        time.sleep(0.1)


def start(
    data_dir: Optional[os.PathLike | str] = None,
    port: Optional[int] = None,
    timeout: float = 120,
    *,
    detach: bool = False,
    jvm_args: Sequence[str] = DEFAULT_JVM_ARGS,
) -> Neo4jServer:
    """Build if needed, start the server in its own process group and wait for READY.

    Attached (default): the server also exits when this Python process dies (stdin EOF).
    detach=True: the server ignores stdin and runs until SIGTERM (for the CLI/CI scripts).
    """
    build()
    java = _find_java()
    owns_data = data_dir is None
    home = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX)).resolve() if owns_data else Path(data_dir).resolve()
    home.mkdir(parents=True, exist_ok=True)
    log_path = home / LOG_NAME
    attempts = 3 if port is None else 1  # an auto-picked port can be stolen before Java binds it
    for attempt in range(1, attempts + 1):
        chosen = port if port is not None else free_port()
        cmd = [java, *jvm_args, "-cp", classpath(), MAIN_CLASS, str(home), str(chosen)]
        if detach:
            cmd.append("--no-stdin-watch")
        _progress(f"starting server on {HOST}:{chosen} (data {home})...")
        t0 = time.monotonic()
        with open(log_path, "w") as log:  # a file, not a pipe: nothing can block on a full pipe
            proc = subprocess.Popen(
                cmd, cwd=home, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                stdin=subprocess.DEVNULL if detach else subprocess.PIPE,
            )
        try:
            uri = _wait_ready(proc, log_path, timeout)
        except BaseException:
            if owns_data:
                shutil.rmtree(home, ignore_errors=True)
            raise
        if uri is not None:
            _progress(f"started on {uri} in {time.monotonic() - t0:.1f}s")
            server = Neo4jServer(proc, chosen, home, owns_data)
            if not detach:
                _LIVE.add(server)
            return server
        text = log_path.read_text(errors="replace")
        in_use = "already in use" in text.lower()
        if attempt < attempts and in_use:
            continue
        if owns_data:
            shutil.rmtree(home, ignore_errors=True)
        why = f"port {chosen} already in use" if in_use else f"exit code {proc.returncode}"
        raise LauncherError(f"neo4j launcher: server failed to start ({why}); last output:\n{_tail(text)}")
    raise AssertionError("unreachable")


def _temp_data_dir(pid: int) -> Optional[Path]:
    """The data dir of a running launcher if start() made it as a temp dir (safe to delete)."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
        data = Path(argv[argv.index(MAIN_CLASS) + 1])
    except (OSError, ValueError, IndexError):
        return None
    tmp = Path(tempfile.gettempdir()).resolve()
    return data if data.parent == tmp and data.name.startswith(TEMP_PREFIX) else None


def stop_pid(pid: int, grace: float = 30) -> bool:
    """Stop a detached server by pid (and drop its temp data dir); False if it was not running."""
    if not _is_launcher(pid):
        return False
    data = _temp_data_dir(pid)
    _kill_group(pid, grace)
    if data is not None:
        shutil.rmtree(data, ignore_errors=True)
    return True


def _write(path: Optional[str], value: str) -> None:
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(value + "\n")


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="launcher.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_build = sub.add_parser("build", help="resolve jars and compile (no-op when up to date)")
    p_build.add_argument("--verbose", action="store_true", help="show Maven output")
    p_start = sub.add_parser("start", help="start detached in the background, print the URI")
    p_start.add_argument("--port", type=int, help="Bolt port on 127.0.0.1 (default: a free one)")
    p_start.add_argument("--data", help="server home/data directory (default: a new temp dir)")
    p_start.add_argument("--pidfile", help="write the server pid (= process group) here")
    p_start.add_argument("--urifile", help="write the bolt:// URI here")
    p_start.add_argument("--timeout", type=float, default=120)
    p_stop = sub.add_parser("stop", help="stop a server started with `start`")
    p_stop.add_argument("--pidfile", required=True)
    p_stop.add_argument("--timeout", type=float, default=30)
    args = parser.parse_args(argv)
    try:
        if args.cmd == "build":
            print(build(quiet=not args.verbose))
        elif args.cmd == "start":
            server = start(args.data, args.port, args.timeout, detach=True)
            _write(args.pidfile, str(server.pid))
            _write(args.urifile, server.uri)
            print(server.uri)
        else:
            pidfile = Path(args.pidfile)
            if not pidfile.is_file():
                _progress(f"no pidfile {pidfile}; nothing to stop")
                return 0
            pid = int(pidfile.read_text().strip())
            if stop_pid(pid, args.timeout):
                _progress(f"stopped pid {pid}")
            else:
                _progress(f"pid {pid} is not a running launcher; nothing to stop")
            pidfile.unlink()
    except LauncherError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
