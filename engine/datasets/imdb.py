"""IMDB movie reviews labelled by sentiment (``keras.datasets.imdb``): 25,000 training and 25,000 test
reviews as lists of word indices (words ranked by frequency), labels 0 (negative) and 1 (positive)."""
from __future__ import annotations

import numpy as np

from engine.datasets import _npz

SHA256 = "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"  # Keras's file_hash
WORD_INDEX_MD5 = "bfafd718b763782e994055a2d397834f"


def load_data(path="imdb.npz", num_words=None, skip_top=0, maxlen=None, seed=113, start_char=1, oov_char=2,
              index_from=3, **kwargs):
    """Loads the IMDB data set as Keras does (the same shuffle for the same ``seed``, the same indices).

    Args:
        path: the file's name in Keras's cache (``~/.keras/datasets``) or under ``$VISUALKERAS_DATA/imdb/``.
        num_words: keep the ``num_words`` most frequent words; rarer ones become ``oov_char``.
        skip_top: also replace the ``skip_top`` most frequent words (e.g. "the") by ``oov_char``.
        maxlen: drop reviews of ``maxlen`` words or more.
        seed: the shuffle's seed.
        start_char: the index that starts every review (1; 0 is padding).
        oov_char: the index of words cut by ``num_words``/``skip_top`` (removed when None).
        index_from: added to every word index.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: x object arrays of lists of ints, y int arrays.

    Raises:
        DatasetNotFoundError: not on this computer and not downloadable (the message says where to put it).
        ValueError: ``maxlen`` leaves no review, or unknown arguments.
    """
    if kwargs:
        raise TypeError(f"Unrecognized keyword arguments: {sorted(kwargs)}")
    f = _npz.read_npz(_npz.find_or_download(path, "imdb.npz", SHA256, "imdb"), ["x_train", "y_train", "x_test", "y_test"])
    rng = np.random.RandomState(seed)  # one stream for both shuffles, as in Keras
    x_train, labels_train = _npz.shuffled(rng, f["x_train"], f["y_train"])
    x_test, labels_test = _npz.shuffled(rng, f["x_test"], f["y_test"])
    x_train = _npz.index_words(x_train, start_char, index_from)
    x_test = _npz.index_words(x_test, start_char, index_from)
    if maxlen:
        x_train, labels_train = _npz.drop_long(maxlen, x_train, labels_train)
        x_test, labels_test = _npz.drop_long(maxlen, x_test, labels_test)
        if not x_train or not x_test:
            raise ValueError(f"After filtering for sequences shorter than maxlen={maxlen}, no sequence was "
                             "kept. Increase maxlen.")
    xs = _npz.cap_vocabulary(x_train + x_test, num_words, skip_top, oov_char)
    labels = np.concatenate([np.asarray(labels_train), np.asarray(labels_test)])
    n = len(x_train)
    return (_npz.ragged(xs[:n]), labels[:n]), (_npz.ragged(xs[n:]), labels[n:])


def get_word_index(path="imdb_word_index.json"):
    """The word -> index dict of the IMDB data set (indices before ``index_from`` is added)."""
    return _npz.word_index(path, "imdb_word_index.json", WORD_INDEX_MD5, "imdb")
