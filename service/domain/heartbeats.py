"""How often a worker proves it still runs its job, and how long others wait before doubting it.

API processes and workers on any host judge one another's jobs by these, so they live here,
apart from the code of either side.
"""

HEARTBEAT_SECONDS = 5.0
"""How often a worker refreshes the heartbeat of the job it runs. It is fixed, whatever the
timeout of the processes that judge the heartbeat, so that any of them can judge any worker."""

STORE_LOCK_WAIT_SECONDS = 30.0
"""How long a write may wait for the store's lock (SQLite's busy timeout)."""

MIN_HEARTBEAT_TIMEOUT_SECONDS = 3 * HEARTBEAT_SECONDS + STORE_LOCK_WAIT_SECONDS
"""The shortest safe heartbeat timeout (45 s): a beat's time is taken before its write, which
may wait for the store's lock, and two beats in a row may fail."""

DEFAULT_HEARTBEAT_TIMEOUT_SECONDS = 60.0
"""How long a running job may go without a heartbeat before it is failed, unless configured."""
