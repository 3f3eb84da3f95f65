"""Sphinx started before the build needs it, in a process of its own (issue 21).

A build's last step, Sphinx (:func:`cspbook.publish.sphinx_run.html`), first imports Sphinx,
Jupyter Book, myst-nb (and with it papermill, jupyter-cache, SQLAlchemy) and the themes: about
0.6 s before it reads a page, paid by every `cspbook build`. :class:`Early` starts a Python
process as soon as the build knows the book will be written again; it imports all that on the
machine's other core while this process plans the book, reuses or runs the notebooks and writes
the downloads, then waits. :meth:`Early.html` hands it the build: the same function,
:func:`cspbook.publish.sphinx_run.html`, with the same arguments, strict as before (a warning
fails it, with the same message), incremental in the same working tree; the result is swapped
in by this process as before. When the process is not there (it could not start, or died),
Sphinx runs in this process instead: the book is the same either way.

The process reads one request (a JSON line) on its stdin and answers one JSON line on a
descriptor of its own (its stdout; anything else that writes to stdout goes to stderr); it
ends when its stdin closes without a request (the build stopped before Sphinx) or after
answering. It is killed when the build ends, fails or is interrupted.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from cspbook.errors import BuildError

COMMAND = ("-m", "cspbook.publish.sphinx_early")  # the process: this module's main(), given the book's folder


class Early:
    """The Sphinx process of one build: :meth:`start` it early, :meth:`html` builds in it."""

    def __init__(self):
        self.proc: subprocess.Popen | None = None

    def start(self, home: Path) -> None:
        """Start the process (once), importing what Sphinx will need for the book at ``home``."""
        if self.proc is not None:
            return
        try:
            self.proc = subprocess.Popen([sys.executable, *COMMAND, str(home)],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, encoding="utf-8")
        except OSError:  # no process: Sphinx runs in this one
            self.proc = None

    def html(self, source: Path, work: Path, failure: str, parallel: int = 1) -> Path:
        """:func:`cspbook.publish.sphinx_run.html` of these arguments, in the early process when
        it is running, else here."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            from cspbook.publish import sphinx_run

            return sphinx_run.html(source, work, failure, parallel)
        request = {"source": str(source), "work": str(work), "failure": failure, "parallel": parallel}
        try:
            answer, _ = proc.communicate(json.dumps(request) + "\n")
        except BaseException:  # interrupted: the process goes with the build
            _kill(proc)
            raise
        lines = (answer or "").strip().splitlines()
        if proc.returncode == 0 and lines:
            result = json.loads(lines[-1])
            if "error" in result:
                raise BuildError(result["error"])
            return Path(result["html"])
        if proc.returncode in (-signal.SIGINT, 130):
            raise KeyboardInterrupt
        raise BuildError(f"{failure}: the Sphinx process ended with exit code {proc.returncode} "
                         "(its messages are above); the last good book is unchanged")

    def close(self) -> None:
        """Stop the process if it is still there (the build ended before Sphinx, or failed)."""
        proc, self.proc = self.proc, None
        if proc is not None:
            _kill(proc)

    def __enter__(self) -> Early:
        return self

    def __exit__(self, *exc) -> bool:
        self.close()
        return False


def _kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    for stream in (proc.stdin, proc.stdout):
        if stream is not None and not stream.closed:
            try:
                stream.close()
            except OSError:
                pass


def main(home: str) -> None:
    """The process's side: import, wait for the request, build, answer, exit."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C reaches the build too: this ends quietly
    answer = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # what Sphinx or an extension prints goes to stderr, never into the answer
    sys.stdout = sys.stderr
    from cspbook.publish import overlap, sphinx_run

    overlap.import_for_build(Path(home))
    line = sys.stdin.readline()
    if line.strip():
        request = json.loads(line)
        try:
            html = sphinx_run.html(Path(request["source"]), Path(request["work"]), request["failure"], request["parallel"])
            result = {"html": str(html)}
        except BuildError as exc:
            result = {"error": str(exc)}
        answer.write(json.dumps(result) + "\n")
        answer.flush()
    sys.stderr.flush()
    os._exit(0)  # no interpreter teardown (Sphinx's modules): the answer is written


if __name__ == "__main__":
    main(sys.argv[1])
