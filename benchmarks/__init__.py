"""gitclaim benchmark suite: run `python3 benchmarks/run.py --help`."""
