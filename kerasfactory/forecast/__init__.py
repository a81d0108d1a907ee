"""The `kerasfactory forecast` / `predict` command line: parsing, the run, the report."""
