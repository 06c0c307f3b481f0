"""Reuters newswires labelled by one of 46 topics (``keras.datasets.reuters``): 11,228 wires as lists
of word indices (words ranked by frequency), split into training and test sets by ``test_split``."""
from __future__ import annotations

import numpy as np

from engine.datasets import _npz

SHA256 = "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916"  # Keras's file_hash
WORD_INDEX_MD5 = "4d44cc38712099c9e383dc6e5f11a921"


def load_data(path="reuters.npz", num_words=None, skip_top=0, maxlen=None, test_split=0.2, seed=113, start_char=1,
              oov_char=2, index_from=3):
    """Loads the Reuters data set as Keras does (the same shuffle and split for the same ``seed``).

    Arguments as ``engine.datasets.imdb.load_data``, plus ``test_split``: the share of wires that go to
    the test set (after shuffling).

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: x object arrays of lists of ints, y int arrays (0-45).

    Raises:
        DatasetNotFoundError: not on this computer and not downloadable (the message says where to put it).
    """
    f = _npz.read_npz(_npz.find_or_download(path, "reuters.npz", SHA256, "reuters"), ["x", "y"])
    xs, labels = _npz.shuffled(seed, f["x"], f["y"])
    xs = _npz.index_words(xs, start_char, index_from)
    if maxlen:
        xs, labels = _npz.drop_long(maxlen, xs, labels)
    xs = _npz.cap_vocabulary(xs, num_words, skip_top, oov_char)
    cut = int(len(xs) * (1 - test_split))
    labels = np.asarray(labels)
    return (_npz.ragged(xs[:cut]), np.array(labels[:cut])), (_npz.ragged(xs[cut:]), np.array(labels[cut:]))


def get_word_index(path="reuters_word_index.json"):
    """The word -> index dict of the Reuters data set (indices before ``index_from`` is added)."""
    return _npz.word_index(path, "reuters_word_index.json", WORD_INDEX_MD5, "reuters")


# The 46 topics in label order (the data set's published topic list).
LABEL_NAMES = (
    "cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing", "money-supply", "coffee", "sugar",
    "trade", "reserves", "ship", "cotton", "carcass", "crude", "nat-gas", "cpi", "money-fx", "interest", "gnp",
    "meal-feed", "alum", "oilseed", "gold", "tin", "strategic-metal", "livestock", "retail", "ipi", "iron-steel",
    "rubber", "heat", "jobs", "lei", "bop", "zinc", "orange", "pet-chem", "dlr", "gas", "silver", "wpi", "hog",
    "lead",
)


def get_label_names():
    """The topic of each label, as a tuple indexed by label (46 names)."""
    return LABEL_NAMES
