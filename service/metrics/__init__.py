"""The service's Prometheus metrics: what each process counts, and what the store tells."""

from service.metrics.registry import ServiceMetrics

__all__ = ["ServiceMetrics"]
