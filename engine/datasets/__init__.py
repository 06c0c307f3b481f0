"""Small built-in data sets (``keras.datasets``), loaded from local files or downloaded once."""
from engine.datasets import (boston_housing, california_housing, cifar10, cifar100, fashion_mnist, imdb, mnist,
                             reuters)
from engine.datasets._loader import OFFLINE_ENV, ChecksumError, DatasetNotFoundError, DownloadError, IDXFormatError
from engine.datasets._loader import fetch, offline

__all__ = ["mnist", "fashion_mnist", "cifar10", "cifar100", "imdb", "reuters", "boston_housing", "california_housing",
           "DatasetNotFoundError", "DownloadError", "ChecksumError", "IDXFormatError",
           "fetch", "offline", "OFFLINE_ENV"]
