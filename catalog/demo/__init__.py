"""Demo data and demo accounts for `make run` (`flask catalog demo`)."""
