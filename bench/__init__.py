"""The benchmark harness: ``python -m bench --scale quick|full`` (``make bench``).

See BENCHMARKS.md for what each figure means and how it is measured.
"""
