"""The confinement of a custom strategy process: resource limits, no network, no writes
outside its folder, no privileges. Every step fails closed: if one is unavailable the process
refuses to run user code and says which mechanism is missing.

Filesystem and TCP confinement use Landlock (Linux >= 5.13; TCP rules from ABI 4, Linux 6.7)
through raw system calls; the network is also taken away by a fresh network namespace (which
has no interface but a loopback that is down), so UDP and Unix sockets reach nothing either.
"""

from __future__ import annotations

import ctypes
import errno
import os
import resource
import sys
from pathlib import Path

SYS_LANDLOCK_CREATE_RULESET = 444  # x86_64 and aarch64 share these numbers
SYS_LANDLOCK_ADD_RULE = 445
SYS_LANDLOCK_RESTRICT_SELF = 446
LANDLOCK_CREATE_RULESET_VERSION = 1
LANDLOCK_RULE_PATH_BENEATH = 1
PR_SET_NO_NEW_PRIVS = 38
PR_SET_PDEATHSIG = 1
PR_CAPBSET_DROP = 24
CAPABILITY_VERSION_3 = 0x20080522
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
O_PATH = 0o10000000

# Landlock filesystem rights (uapi/linux/landlock.h)
EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
WRITES = sum(1 << bit for bit in range(4, 13)) | WRITE_FILE  # remove, make_* and write
REFER, TRUNCATE, IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
READS = EXECUTE | READ_FILE | READ_DIR
NET_BIND_TCP, NET_CONNECT_TCP = 1 << 0, 1 << 1
SCOPE_ABSTRACT_UNIX, SCOPE_SIGNAL = 1 << 0, 1 << 1


class ConfinementError(RuntimeError):
    """A confinement mechanism is unavailable; user code must not run."""


class _Ruleset(ctypes.Structure):
    _fields_ = (
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    )


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = (("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32))


_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


def _fail(what: str) -> ConfinementError:
    error = ctypes.get_errno()
    return ConfinementError(f"{what} failed: {os.strerror(error)} (errno {error})")


def landlock_abi() -> int:
    """The kernel's Landlock ABI version (0 when Landlock is unavailable)."""
    version = _libc.syscall(SYS_LANDLOCK_CREATE_RULESET, None, 0, LANDLOCK_CREATE_RULESET_VERSION)
    return max(int(version), 0)


def set_limits(cpu_seconds: int, memory_mb: int, file_mb: int = 64) -> None:
    """CPU time (SIGXCPU then SIGKILL), address space, file size, processes, no core dumps."""
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    memory = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_mb * 1024 * 1024,) * 2)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NPROC, (64, 64))


def die_with_parent() -> None:
    """Be killed when the worker that started us dies (a killed worker leaves no orphan)."""
    if _libc.prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0) != 0:
        raise _fail("prctl(PR_SET_PDEATHSIG)")


def isolate_network() -> None:
    """Enter a new network namespace (as root; otherwise inside a new user namespace)."""
    flags = CLONE_NEWNET if os.geteuid() == 0 else CLONE_NEWNET | CLONE_NEWUSER
    if _libc.unshare(flags) != 0:
        raise _fail("unshare(CLONE_NEWNET)")


def read_roots() -> list[Path]:
    """Where the interpreter and its libraries live: readable (not writable) in the sandbox."""
    candidates = [Path(sys.prefix), Path(sys.base_prefix), Path(sys.executable).resolve().parent]
    candidates += [Path(p) for p in sys.path if p]
    candidates += [Path("/usr/lib"), Path("/lib"), Path("/lib64"), Path("/dev/null")]
    return sorted({p.resolve() for p in candidates if p.exists()})


def _allow(ruleset: int, path: Path, access: int) -> None:
    fd = os.open(path, O_PATH | os.O_CLOEXEC)
    try:
        rule = _PathBeneath(allowed_access=access, parent_fd=fd)
        if _libc.syscall(SYS_LANDLOCK_ADD_RULE, ruleset, LANDLOCK_RULE_PATH_BENEATH,
                         ctypes.byref(rule), 0) != 0:  # fmt: skip
            raise _fail(f"landlock_add_rule({path})")
    finally:
        os.close(fd)


def restrict_filesystem(writable: Path, readable: list[Path]) -> int:
    """Landlock: read only ``readable``, write only beneath ``writable``, no TCP (ABI >= 4),
    no signals or abstract sockets outside the sandbox (ABI >= 6). Returns the ABI used."""
    abi = landlock_abi()
    if abi < 1:
        raise ConfinementError("Landlock is not available in this kernel (needs Linux >= 5.13)")
    fs = READS | WRITES | (REFER if abi >= 2 else 0) | (TRUNCATE if abi >= 3 else 0)
    fs |= IOCTL_DEV if abi >= 5 else 0
    attr = _Ruleset(
        handled_access_fs=fs,
        handled_access_net=NET_BIND_TCP | NET_CONNECT_TCP if abi >= 4 else 0,
        scoped=SCOPE_ABSTRACT_UNIX | SCOPE_SIGNAL if abi >= 6 else 0,
    )
    size = 8 if abi < 4 else 16 if abi < 6 else 24
    ruleset = int(_libc.syscall(SYS_LANDLOCK_CREATE_RULESET, ctypes.byref(attr), size, 0))
    if ruleset < 0:
        raise _fail("landlock_create_ruleset")
    try:
        for path in readable:
            _allow(ruleset, path, READS if path.is_dir() else READ_FILE)
        _allow(ruleset, writable, fs & ~(IOCTL_DEV | EXECUTE))
        if _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise _fail("prctl(PR_SET_NO_NEW_PRIVS)")
        if _libc.syscall(SYS_LANDLOCK_RESTRICT_SELF, ruleset, 0) != 0:
            raise _fail("landlock_restrict_self")
    finally:
        os.close(ruleset)
    return abi


class _CapHeader(ctypes.Structure):
    _fields_ = (("version", ctypes.c_uint32), ("pid", ctypes.c_int))


class _CapData(ctypes.Structure):
    _fields_ = (
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    )


def drop_privileges(last_cap: int) -> None:
    """Drop every capability (bounding set first, then the process's own), so that a process
    started as root cannot undo the namespace or reach others' files. The user id stays: the
    interpreter's own files may be readable only by their owner (e.g. under /root)."""
    for cap in range(last_cap + 1):
        if _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 and ctypes.get_errno() != errno.EINVAL:
            raise _fail(f"prctl(PR_CAPBSET_DROP, {cap})")
    header = _CapHeader(version=CAPABILITY_VERSION_3, pid=0)
    data = (_CapData * 2)()
    if _libc.capset(ctypes.byref(header), data) != 0:
        raise _fail("capset")


def confine(folder: Path, cpu_seconds: int, memory_mb: int) -> None:
    """Everything above, in the order that keeps each step possible."""
    last_cap = int(Path("/proc/sys/kernel/cap_last_cap").read_text(encoding="ascii"))
    die_with_parent()
    isolate_network()
    restrict_filesystem(folder, read_roots())
    set_limits(cpu_seconds, memory_mb)
    drop_privileges(last_cap)
