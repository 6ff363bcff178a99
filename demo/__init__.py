"""The demo repository reviewq opens when there is nothing else (`reviewq demo`)."""

from reviewq.demo.builder import build_demo

__all__ = ["build_demo"]
