"""Small built-in data sets (``keras.datasets``), loaded from local files or downloaded once."""
from engine.datasets import cifar10, cifar100, fashion_mnist, mnist
from engine.datasets._loader import ChecksumError, DatasetNotFoundError, DownloadError, IDXFormatError

__all__ = ["mnist", "fashion_mnist", "cifar10", "cifar100", "DatasetNotFoundError", "DownloadError", "ChecksumError",
           "IDXFormatError"]
