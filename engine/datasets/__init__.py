"""Small built-in data sets (``keras.datasets``), loaded from local files or downloaded once."""
from engine.datasets import fashion_mnist, mnist
from engine.datasets._loader import ChecksumError, DatasetNotFoundError, DownloadError, IDXFormatError

__all__ = ["mnist", "fashion_mnist", "DatasetNotFoundError", "DownloadError", "ChecksumError", "IDXFormatError"]
