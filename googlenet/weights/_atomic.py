"""The old home of :mod:`googlenet.atomic`, kept only while deploy/native.py imports
``atomic_path`` from here; delete it when that import moves."""

from googlenet.atomic import atomic_path as atomic_path
