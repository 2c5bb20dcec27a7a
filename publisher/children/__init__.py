"""Child processes that can be killed: started, tied to this process's life, timed, reaped.

Three kinds of work run in child processes, each because only a process can be stopped in
the middle of it: the embedded store's query workers (publisher.store.engine), the parser
processes of rdflib's full parse for a remote store (publisher.sparql.strict), and the
forked processes of a parallel validation (publisher.validation). This package is the one
place that starts them:

- `spawn` starts `python -m MODULE FD PARENT ARGS...` with one end of a new socket pair
  (the child's only link to us) and, in the child, `attach` turns FD back into a Channel.
  A plain subprocess rather than multiprocessing: it neither forks the threaded web server
  nor re-imports the program's __main__ (`spawned`).
- `Channel` frames carry a JSON header and raw bytes (an answer's body). Nothing received is
  executed: no pickle, never multiprocessing's Connection.recv, which unpickles what a child
  sends. A query worker or parser process reads untrusted text and runs it through a large
  native engine; should one ever be taken over, all it can send us is data (`channel`).
- A child ends with its parent: `tie_to_parent` asks the kernel for SIGKILL when the parent
  dies (prctl PR_SET_PDEATHSIG, Linux), else a thread watches the parent's id (`tie`). The
  kernel sends that signal when the *thread* that started the child ends, not the process,
  so every `spawn` runs its fork in one long-lived thread of ours, never in the short-lived
  threads that start pool members.
- `Child.request` sends and waits for the answer until a deadline (`Deadline`), after which
  the caller kills the child (`Child.kill`, which also reaps it: no zombie is left).
- `Pool` hands members out one caller at a time (the member given back last first, its
  caches warm); a fixed-size pool starts every member again that dies, is killed or does not
  come up (after 0.5 s, doubling up to 30 s while starts keep failing), so it never shrinks
  (`pool`).
- `fork` runs a function in a forked copy of this process (the validation shares its parsed
  graph copy-on-write), tied to us the same way, its result sent back through a pipe
  (`forked`).

What a child does before it reads anything is its own: a query worker confines itself to no
network (publisher.sparql.sandbox, seccomp) and sets its memory limit (RLIMIT_DATA, read
from its environment, see publisher.store.engine.memory) right after `attach`, so the helper
passes an environment and stays out of the way until the child reads its first frame.

Why our own rather than pebble or loky: both pickle across the process boundary (pebble's
channels are multiprocessing Connections, loky's queues use cloudpickle), so the parent
would unpickle whatever a sandboxed child sends; both start children through
multiprocessing (fork of the threaded server, or spawn re-importing __main__), and neither
ties a child to its parent with the kernel's parent-death signal. pebble kills a task at its
timeout but gives no hold on the child between start and first task (where the sandbox
goes); loky does not kill a running task at all. What we need is a few hundred lines of the
standard library, so this package imports nothing else.
"""

from __future__ import annotations

from publisher.children.channel import Channel, Deadline, Gone, ProtocolError
from publisher.children.forked import Forked, fork
from publisher.children.pool import Busy, Member, Pool
from publisher.children.spawned import Child, attach, spawn
from publisher.children.tie import tie_to_parent

__all__ = [
    "Busy",
    "Channel",
    "Child",
    "Deadline",
    "Forked",
    "Gone",
    "Member",
    "Pool",
    "ProtocolError",
    "attach",
    "fork",
    "spawn",
    "tie_to_parent",
]
