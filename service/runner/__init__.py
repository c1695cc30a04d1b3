"""How jobs get executed: the Runner interface and the local worker-process implementation."""

from service.runner.base import Runner, RunnerHealth

__all__ = ["Runner", "RunnerHealth"]
