"""The program's entry points: the `hotline` command line, the embedded stack (`hotline up`) and
the benchmark."""
