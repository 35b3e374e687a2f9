"""The local sandbox: one subprocess per code-runner call, with the CustomCodeFunction's protocol
and limits (used by `flowless run`, the local server and the tests).

The child is `python -I layers/sandbox/flowless_sandbox/__main__.py` in a fresh empty directory,
with an environment of its own (no AWS credentials, no endpoints, no Flowless settings, no
proxies: only PATH, HOME=that directory and the limits), its own session (killed as a group),
and resource limits: address space (memory), CPU seconds, open files, file size. A wall-clock
timeout kills it. It answers one JSON object on stdout.

What it cannot see of the process that started it: its environment (credentials, endpoints) is
not inherited, and that process is made non-dumpable while the child drops every capability
and sets no_new_privs, so /proc/<parent>/environ and its memory are closed to it (Linux). What
this local sandbox does not hide: files and other processes of the same local user. It is the
development stand-in; the isolation boundary in AWS is the CustomCodeFunction (its own
execution environment per tenant, a role with no permissions).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any



def _entry() -> Path:
    """flowless_sandbox/__main__.py: in this checkout (layers/sandbox), else where it is installed
    (located, never imported: this process must not load the sandbox runtime)."""
    in_checkout = Path(__file__).resolve().parents[3] / "layers" / "sandbox" / "flowless_sandbox" / "__main__.py"
    if in_checkout.is_file():
        return in_checkout
    import importlib.util

    spec = importlib.util.find_spec("flowless_sandbox")
    if spec is None or spec.origin is None:
        raise RuntimeError("the sandbox runtime (flowless_sandbox) is not installed")
    return Path(spec.origin).with_name("__main__.py")


ENTRY = _entry()
MAX_ANSWER_BYTES = 6 * 1024 * 1024  # Lambda's synchronous payload limit, the same here


class SubprocessSandbox:
    def __init__(self, *, timeout_s: float = 10.0, memory_mb: int = 512, max_processes: int = 64) -> None:
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb
        self.max_processes = max_processes

    def _limits(self) -> None:  # runs in the child, before exec
        import resource

        _drop_privileges()
        memory = self.memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        cpu = max(1, int(self.timeout_s) + 1)
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
        resource.setrlimit(resource.RLIMIT_FSIZE, (16 * 1024 * 1024, 16 * 1024 * 1024))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    async def call(self, call: dict[str, Any]) -> dict[str, Any]:
        _protect_this_process()
        with tempfile.TemporaryDirectory(prefix="flowless-sandbox-") as workdir:
            env = {"PATH": "/usr/bin:/bin", "HOME": workdir, "TMPDIR": workdir, "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1", "AWS_EC2_METADATA_DISABLED": "true"}
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-I", str(ENTRY),
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                cwd=workdir, env=env, preexec_fn=self._limits, start_new_session=True, close_fds=True,
            )
            try:
                out, err = await asyncio.wait_for(process.communicate(json.dumps(call).encode()), timeout=self.timeout_s)
            except asyncio.CancelledError:  # the run was cancelled (another vertex failed): end the child with it
                _kill_group(process.pid)
                await asyncio.shield(process.wait())
                raise
            except asyncio.TimeoutError:
                _kill_group(process.pid)
                await process.wait()
                return {"ok": False, "kind": "timeout", "error": f"the code ran longer than its limit of {self.timeout_s:g} s and was stopped", "logs": []}
            finally:
                _kill_group(process.pid)  # anything it started in the background ends with it
        if len(out) > MAX_ANSWER_BYTES:
            return {"ok": False, "kind": "error", "error": f"the answer is larger than {MAX_ANSWER_BYTES} bytes", "logs": []}
        try:
            answer = json.loads(out.decode("utf-8", "replace"))
        except ValueError:
            return {"ok": False, "kind": "crash", "error": _crash(process.returncode, err), "logs": []}
        return answer if isinstance(answer, dict) else {"ok": False, "kind": "crash", "error": "the sandbox answered no object", "logs": []}


_LIBC: Any = None


def _libc() -> Any:
    global _LIBC
    if _LIBC is None and sys.platform.startswith("linux"):
        import ctypes

        _LIBC = ctypes.CDLL(None, use_errno=True)
    return _LIBC


def _protect_this_process() -> None:
    """PR_SET_DUMPABLE 0: a process without CAP_SYS_PTRACE cannot read our /proc environ or memory."""
    libc = _libc()
    if libc is not None:
        libc.prctl(4, 0, 0, 0, 0)


def _drop_privileges() -> None:
    """In the child: no capabilities (bounding set and effective/permitted sets), no_new_privs."""
    libc = _libc()
    if libc is None:
        return
    import ctypes

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]

    for capability in range(64):
        libc.prctl(24, capability, 0, 0, 0)  # PR_CAPBSET_DROP (fails harmlessly past the last one)
    if libc.capset(ctypes.byref(Header(0x20080522, 0)), (Data * 2)()) != 0:
        raise OSError(ctypes.get_errno(), "capset")
    libc.prctl(38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, 9)
    except (ProcessLookupError, PermissionError):
        pass


def _crash(returncode: int | None, stderr: bytes) -> str:
    tail = stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
    if returncode is not None and returncode < 0:
        import signal

        name = signal.Signals(-returncode).name if -returncode in {s.value for s in signal.Signals} else str(-returncode)
        return f"the sandbox process was killed ({name}; memory or CPU limit) {tail[0]}".strip()
    if "MemoryError" in tail[0]:
        return "the code ran out of memory (its limit was reached)"
    return f"the sandbox process ended without an answer (exit {returncode}) {tail[0][:300]}".strip()
