"""PlaneNet benchmarks: scripts that print figures; run them with `make bench`."""
