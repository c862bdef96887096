"""Run bookkeeping every command shares: validated configs with overrides, hashes, seeds, environment
capture and the run directory layout."""
