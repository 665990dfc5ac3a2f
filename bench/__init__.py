"""Benchmarks of ccus-portal (run: ``./dev.sh bench`` or ``python -m bench``); results in bench/results/."""
