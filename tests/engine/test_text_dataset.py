"""engine.utils.text_dataset_from_directory against Keras 3's pieces that run without TensorFlow or
grain (``dataset_utils.index_directory`` and the grain path's file reader)."""
import numpy as np
import pytest

from engine.utils import text_dataset_from_directory


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("texts")
    rng = np.random.default_rng(0)
    words = ["good", "bad", "film", "plot", "actors", "boring", "great", "ending", "caf\u00e9", "\u2764"]
    for label, count in (("neg", 7), ("pos", 5), ("unsure", 2)):
        (root / label).mkdir()
        for i in range(count):
            text = " ".join(rng.choice(words, int(rng.integers(3, 12))))
            (root / label / f"review_{i}.txt").write_text(text, encoding="utf-8")
        (root / label / "ignored.md").write_text("not a .txt file")
    (root / "pos" / "more").mkdir()
    (root / "pos" / "more" / "nested.txt").write_text("nested files count too")
    return str(root)


@pytest.fixture
def keras_text(keras):
    from keras.src.utils import dataset_utils as kd
    from keras.src.utils import text_dataset_utils as kt

    return kd, kt


@pytest.mark.parametrize("shuffle, seed", [(False, None), (True, 42)])
def test_files_labels_and_texts_match_keras(keras_text, folder, shuffle, seed, capsys):
    kd, kt = keras_text
    ds = text_dataset_from_directory(folder, batch_size=4, shuffle=shuffle, seed=seed)
    assert "Found 15 files belonging to 3 classes." in capsys.readouterr().out
    paths, labels, names = kd.index_directory(folder, "inferred", formats=(".txt",), shuffle=shuffle, seed=seed)
    assert ds.file_paths == paths and ds.class_names == names == ["neg", "pos", "unsure"]
    assert len(ds) == 4
    batches = list(ds)
    texts = np.concatenate([t for t, _ in batches])
    got_labels = np.concatenate([y for _, y in batches])
    assert texts.dtype == object and all(isinstance(t, str) for t in texts)
    expected = {p: (kt._path_to_string_content_grain(p, None), l) for p, l in zip(paths, labels)}
    if shuffle:  # each pass takes its own order: compare as sets of (text, label)
        assert sorted(zip(texts, got_labels.tolist())) == sorted((t, int(l)) for t, l in expected.values())
    else:
        assert texts.tolist() == [expected[p][0] for p in paths]
        assert got_labels.tolist() == [int(expected[p][1]) for p in paths]


def test_max_length_label_modes_split_and_unbatched(keras_text, folder):
    kd, _ = keras_text
    short = text_dataset_from_directory(folder, max_length=5, shuffle=False, verbose=False)
    full = text_dataset_from_directory(folder, shuffle=False, verbose=False)
    (s, _), = list(short)
    (f, _), = list(full)
    # max_length counts bytes, as Keras's tf.strings.substr; a cut multi-byte character becomes U+FFFD.
    assert [t for t in s] == [x.encode()[:5].decode("utf-8", "replace") for x in f]
    texts, y = text_dataset_from_directory(folder, label_mode="categorical", shuffle=False, verbose=False)[0]
    assert y.shape == (len(texts), 3) and y.dtype == np.float32
    only = text_dataset_from_directory(folder, label_mode=None, shuffle=False, verbose=False, batch_size=None)
    items = list(only)
    assert all(isinstance(t, str) for t in items) and len(items) == len(only.file_paths)
    train, val = text_dataset_from_directory(folder, validation_split=0.2, subset="both", seed=3, verbose=False)
    paths, labels, _ = kd.index_directory(folder, "inferred", formats=(".txt",), shuffle=True, seed=3, verbose=False)
    assert train.file_paths == kd.get_training_or_validation_split(paths, labels, 0.2, "training")[0]
    assert val.file_paths == kd.get_training_or_validation_split(paths, labels, 0.2, "validation")[0]
    with pytest.raises(ValueError, match="exactly 2 class_names"):
        text_dataset_from_directory(folder, label_mode="binary")
    binary = text_dataset_from_directory(folder, label_mode="binary", class_names=["pos", "neg"], verbose=False)
    assert binary[0][1].shape[1:] == (1,) and set(np.unique(binary[0][1])) <= {0.0, 1.0}
    with pytest.raises(ValueError, match="max_length"):
        text_dataset_from_directory(folder, max_length=-1)
