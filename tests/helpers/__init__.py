"""Helpers shared by the tests and the benchmarks: servers, jobs, problems, reference code."""
