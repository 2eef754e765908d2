"""NAS-Bench-201 / HW-NAS-Bench."""
