"""jocker: the bundled command-line client for jockerd."""
