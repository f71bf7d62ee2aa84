"""gunicorn settings of the `web` process (Procfile), also used by the load benchmark.

Sync Django views on threads in several processes. Each setting can be changed through
the environment named beside it.
"""

from __future__ import annotations

import os

bind = os.environ.get("WEB_BIND", "127.0.0.1:8000")
worker_class = "gthread"
# One process per core: the views are CPU-bound Python, so more processes than cores only
# add switching; the threads cover the waits on PostgreSQL and Redis.
workers = int(os.environ.get("WEB_CONCURRENCY") or 0) or (
    len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
)
threads = int(os.environ.get("WEB_THREADS", "4"))
# Longer than a load balancer's idle timeout (60 s for the common ones), so that the
# balancer closes an idle connection first; if gunicorn did, a request the balancer sends
# on it at that moment would fail. An idle connection costs only a socket in the poller.
keepalive = int(os.environ.get("WEB_KEEPALIVE", "75"))
# Each process listens on a socket of its own (SO_REUSEPORT) and the kernel spreads new
# connections over them. With one shared socket the processes race to accept, and a
# client's (or a balancer's) long-lived connections can all land on one process while
# the other cores idle: measured here, one process at 90 % CPU and the other near 0.
# The price: connections queued on a process that restarts are dropped (the client retries).
reuse_port = os.environ.get("WEB_REUSE_PORT", "1") != "0"
timeout = 60
accesslog = os.environ.get("WEB_ACCESS_LOG", "-")
