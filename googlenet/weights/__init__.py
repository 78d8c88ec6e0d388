"""Weights: readers for foreign weight files (Keras HDF5, Caffe), safetensors I/O, labels.

Submodules are imported explicitly (``from googlenet.weights import caffe``) so that
optional dependencies such as h5py are only needed by the code that reads those files.
"""
