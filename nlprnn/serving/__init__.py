"""Serving a trained bundle over HTTP (``pip install 'nlprnn[serve]'``): ``create_app`` and its batcher."""

from nlprnn.serving.batcher import Batcher, QueueFull

__all__ = ["Batcher", "QueueFull"]
