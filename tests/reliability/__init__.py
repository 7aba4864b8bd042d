"""Reliability tests: hostile files, crashes, concurrency, history, backup and restore."""
