"""repro: regenerate the tables and figures of five papers on kernel-based deep generative models."""

__version__ = "0.1.0"
