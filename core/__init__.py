"""PlaneNet core: data, network, training and figures, on NumPy alone."""
