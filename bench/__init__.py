"""The benchmark suite: a fast data generator and a load runner against gunicorn on PostgreSQL.

    python -m bench [--size N] [--requests N] [--concurrency N] [--database-url URL]

See bench/README.md for what is measured and how to read the figures.
"""
