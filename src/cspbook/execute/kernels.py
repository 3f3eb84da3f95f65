"""Kernel settings for executing the book's notebooks.

- Transport: CurveZMQ-encrypted TCP, provisioned by the kernel manager (jupyter_client
  >= 8.9); 'required' fails loudly rather than falling back to plain text, so the
  "Kernel is running over TCP without encryption" warning never appears.
- The kernel process's own log lines (not cell outputs) go to a log file, not the
  terminal: jupyter_client interrupts a kernel before shutting it down, and ipykernel
  sometimes logs "KeyboardInterrupt caught in kernel" for it, which is noise.
"""

from __future__ import annotations

import os

from jupyter_client.manager import AsyncKernelManager
from traitlets import Dict, Unicode
from traitlets.config import Config


class LoggedKernelManager(AsyncKernelManager):
    """A kernel manager that sends the kernel process's stdout/stderr to a file."""

    kernel_log_path = Unicode("", config=True)
    kernel_env = Dict({}, config=True, help="variables added to the kernel's environment (not ours)")

    async def _async_pre_start_kernel(self, **kw):
        if self.kernel_env:
            kw["env"] = {**kw.get("env", os.environ), **self.kernel_env}
        if self.kernel_log_path:
            log = open(self.kernel_log_path, "ab")  # noqa: SIM115 - the child keeps a dup of the fd
            kw.setdefault("stdout", log)
            kw.setdefault("stderr", log)
        return await super()._async_pre_start_kernel(**kw)


def config(log_path, env: dict | None = None) -> Config:
    return Config({
        "KernelManager": {"transport_encryption": "required"},
        "LoggedKernelManager": {"kernel_log_path": str(log_path), "kernel_env": dict(env or {})},
    })
