"""Property tests over hostile input (make test runs a small slice; make fuzz runs many more)."""
