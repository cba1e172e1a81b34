"""blake2b as hashlib has it, without importing hashlib: that loads OpenSSL for its other hashes, a few
milliseconds of every command's start, and smdr hashes only with blake2b (call ids, cache entries)."""

try:
    from _blake2 import blake2b
except ImportError:  # a Python built without it
    from hashlib import blake2b

__all__ = ["blake2b"]
