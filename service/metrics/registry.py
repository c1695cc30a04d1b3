"""One registry per application: request, prediction and cache counters, and store figures.

Counted in this process: requests (per route template, method and status) and their latency,
predicted points, model cache hits and misses, and its own training workers alive. Read from
the store at scrape time (so the same in every API process sharing the database; take one
replica's or the maximum, never the sum): jobs by status, busy workers on every host, and
the queue-wait and training-duration histograms of every job ever run.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from service.model_cache import ModelCache
from service.runner import Runner
from service.store.repository import Repository
from service.store.stats import DurationCounts

PREFIX = "planenet"
REQUEST_SECONDS_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
QUEUE_WAIT_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)
TRAINING_SECONDS_BUCKETS = (1.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)


@dataclass(frozen=True)
class ServiceParts:
    """What the scrape-time figures are read from (built by the lifespan)."""

    repository: Repository
    runner: Runner
    model_cache: ModelCache


class ServiceMetrics:
    """The metrics of one application; ``parts`` is set once its lifespan has built them."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.parts: ServiceParts | None = None
        self.requests = Counter(
            f"{PREFIX}_http_requests",
            "HTTP requests answered, by route template, method and status",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            f"{PREFIX}_http_request_duration_seconds",
            "Seconds from a request's arrival to the end of its answer, by route template",
            ["route", "method"],
            buckets=REQUEST_SECONDS_BUCKETS,
            registry=self.registry,
        )
        self.predicted_points = Counter(
            f"{PREFIX}_predicted_points",
            "Points classified by predictions",
            registry=self.registry,
        )
        self._request_children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
        self.registry.register(_StoreCollector(lambda: self.parts))

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        # Finding a labelled child costs more than counting; each label set's pair is kept.
        key = (route, method, status)
        children = self._request_children.get(key)
        if children is None:
            children = (
                self.requests.labels(route, method, str(status)),
                self.request_seconds.labels(route, method),
            )
            self._request_children[key] = children
        count, duration = children
        count.inc()
        duration.observe(seconds)


class _StoreCollector(Collector):
    """Figures read when scraped: the store's jobs, the cache's counts, the workers alive."""

    def __init__(self, parts: Callable[[], ServiceParts | None]) -> None:
        self._parts = parts

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        parts = self._parts()
        if parts is None:
            return
        jobs = GaugeMetricFamily(
            f"{PREFIX}_jobs", "Jobs in the store by status (every process)", labels=["status"]
        )
        for status, count in parts.repository.job_counts().items():
            jobs.add_metric([str(status)], count)
        yield jobs
        yield _histogram(
            f"{PREFIX}_job_queue_wait_seconds",
            "Seconds jobs waited queued before a worker started them (every process)",
            parts.repository.queue_waits(QUEUE_WAIT_BUCKETS),
        )
        yield _histogram(
            f"{PREFIX}_job_training_seconds",
            "Seconds succeeded jobs took from start to stored model (every process)",
            parts.repository.training_durations(TRAINING_SECONDS_BUCKETS),
        )
        hits, misses = parts.model_cache.counts()
        yield CounterMetricFamily(
            f"{PREFIX}_model_cache_hits", "Model reads served from this process's cache", hits
        )
        yield CounterMetricFamily(
            f"{PREFIX}_model_cache_misses", "Model reads that loaded from the store", misses
        )
        workers = parts.runner.health()
        yield GaugeMetricFamily(
            f"{PREFIX}_training_workers_alive",
            "Training worker processes alive in this process",
            value=workers.alive,
        )
        yield GaugeMetricFamily(
            f"{PREFIX}_training_workers_expected",
            "Training worker processes this process runs when all is well",
            value=workers.expected,
        )
        yield GaugeMetricFamily(
            f"{PREFIX}_training_workers_busy",
            "Workers on any host running a job now (from the store)",
            value=parts.repository.busy_workers(),
        )


def _histogram(name: str, documentation: str, counts: DurationCounts) -> HistogramMetricFamily:
    buckets = [
        (f"{bound:g}", count) for bound, count in zip(counts.bounds, counts.cumulative, strict=True)
    ]
    buckets.append(("+Inf", counts.count))
    return HistogramMetricFamily(
        name, documentation, buckets=buckets, sum_value=counts.total_seconds
    )
