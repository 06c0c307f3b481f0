"""IntegerLookup. Keras's own needs TensorFlow (it cannot run on Keras's torch backend), so the expected
values are the ones Keras documents in its docstring examples; configs and refusals as Keras's."""
import numpy as np
import pytest
import torch

import engine
from engine import layers as E

VOCAB = [12, 36, 1138, 42]
DATA = np.array([[12, 1138, 42], [42, 1000, 36]])
DOC = np.array([[12, 1138, 42, 42], [42, 7, 36, 7]])


def test_integer_lookup_reproduces_keras_documented_examples():
    np.testing.assert_array_equal(E.IntegerLookup(vocabulary=VOCAB)(DATA).numpy(), [[1, 3, 4], [4, 0, 2]])
    adapted = E.IntegerLookup()
    adapted.adapt(DATA)
    assert adapted.get_vocabulary() == [-1, 42, 1138, 1000, 36, 12]
    np.testing.assert_array_equal(adapted(DATA).numpy(), [[5, 2, 1], [1, 3, 4]])
    np.testing.assert_array_equal(E.IntegerLookup(vocabulary=VOCAB, num_oov_indices=2)(
        np.array([[12, 1138, 42], [37, 1000, 36]])).numpy(), [[2, 4, 5], [1, 0, 3]])
    np.testing.assert_array_equal(E.IntegerLookup(vocabulary=[10, 20, 30], num_oov_indices=4)(
        np.array([100, 300, 700, 1100, 1700, 2000])).numpy(), [0] * 6)
    np.testing.assert_array_equal(E.IntegerLookup(vocabulary=VOCAB, output_mode="one_hot")(
        np.array([12, 36, 1138, 42, 7])).numpy(), np.eye(5)[[1, 2, 3, 4, 0]])
    np.testing.assert_array_equal(E.IntegerLookup(vocabulary=VOCAB, output_mode="multi_hot")(DOC).numpy(),
                                  [[0, 1, 0, 1, 1], [1, 0, 1, 0, 1]])
    np.testing.assert_array_equal(E.IntegerLookup(vocabulary=VOCAB, output_mode="count")(DOC).numpy(),
                                  [[0, 1, 0, 1, 2], [2, 0, 1, 0, 1]])
    np.testing.assert_allclose(E.IntegerLookup(vocabulary=VOCAB, output_mode="tf_idf",
                                               idf_weights=[0.25, 0.75, 0.6, 0.4])(DOC).numpy(),
                               [[0, 0.25, 0, 0.6, 0.8], [1.0, 0, 0.75, 0, 0.4]], atol=1e-6)
    np.testing.assert_allclose(E.IntegerLookup(vocabulary=[-1] + VOCAB, output_mode="tf_idf",
                                               idf_weights=[0.9, 0.25, 0.75, 0.6, 0.4])(DOC).numpy(),
                               [[0, 0.25, 0, 0.6, 0.8], [1.8, 0, 0.75, 0, 0.4]], atol=1e-6)
    inverse = E.IntegerLookup(vocabulary=VOCAB, invert=True)
    np.testing.assert_array_equal(inverse(np.array([[1, 3, 4], [4, 0, 2]])).numpy(), [[12, 1138, 42], [42, -1, 36]])
    np.testing.assert_array_equal(inverse(E.IntegerLookup(vocabulary=VOCAB)(DATA)).numpy(),
                                  [[12, 1138, 42], [42, -1, 36]])


def test_integer_lookup_mask_token_max_tokens_and_tf_idf_adapt():
    layer = E.IntegerLookup(vocabulary=VOCAB, mask_token=0)
    np.testing.assert_array_equal(layer(np.array([[12, 0, 7]])).numpy(), [[2, 0, 1]])
    assert layer.get_vocabulary() == [0, -1] + VOCAB
    small = E.IntegerLookup(max_tokens=3)
    small.adapt(np.array([5, 5, 5, 6, 6, 7]))
    assert small.get_vocabulary() == [-1, 5, 6]
    tfidf = E.IntegerLookup(output_mode="tf_idf")
    tfidf.adapt(DOC)  # idf = log(1 + documents / (1 + documents containing the value))
    vocab = tfidf.get_vocabulary()
    assert vocab[0] == -1 and vocab[1] == 42
    want = np.log(1 + 2 / (1 + np.array([2, 1, 1, 1, 1])))  # 42 is in both rows; 7, 1138, 36, 12 in one
    np.testing.assert_allclose(tfidf.idf_weights.numpy()[1:], want.astype("float32"), rtol=1e-6)
    assert tfidf(DOC).shape == (2, len(vocab))


def test_integer_lookup_config_round_trip_and_model(tmp_path):
    layer = E.IntegerLookup(vocabulary=VOCAB, num_oov_indices=2, name="lookup")
    config = layer.get_config()
    assert {"invert", "max_tokens", "num_oov_indices", "oov_token", "mask_token", "output_mode", "sparse",
            "pad_to_max_tokens", "vocabulary_dtype", "idf_weights", "vocabulary", "vocabulary_size", "oov_method",
            "salt"} <= set(config)
    again = E.IntegerLookup.from_config(config)
    np.testing.assert_array_equal(again(DATA).numpy(), layer(DATA).numpy())
    inp = engine.Input((3,), dtype="int64")
    model = engine.Model(inp, E.Dense(2)(E.IntegerLookup(vocabulary=VOCAB, output_mode="multi_hot")(inp)))
    assert model.output_shape == (None, 2)
    model.save(str(tmp_path / "m.keras"))
    loaded = engine.models.load_model(str(tmp_path / "m.keras"))
    np.testing.assert_allclose(loaded.predict(DATA, verbose=0), model.predict(DATA, verbose=0), atol=1e-6)


def test_integer_lookup_farmhash_oov_gives_keras_documented_indices():
    oov_values = np.array([100, 300, 700, 1100, 1700, 2000])
    farmhash = E.IntegerLookup(vocabulary=[10, 20, 30], num_oov_indices=4, oov_method="farmhash")
    np.testing.assert_array_equal(farmhash(oov_values).numpy(), [3, 3, 2, 2, 0, 1])  # Keras's docstring
    np.testing.assert_array_equal(farmhash(np.array([10, 30, 100])).numpy(), [4, 6, 3])  # the vocabulary after
    salted = E.IntegerLookup(vocabulary=[10, 20, 30], num_oov_indices=3, oov_method="farmhash", salt=[133, 137],
                             mask_token=0)
    # Keras's Hashing(num_bins=3, salt=[133, 137]) sends 1..4 to bins 1, 2, 0, 1 (its hashing_test)
    np.testing.assert_array_equal(salted(np.array([1, 2, 3, 4, 0, 20])).numpy(), [2, 3, 1, 2, 0, 5])
    config = salted.get_config()
    assert config["oov_method"] == "farmhash" and config["salt"] == [133, 137]
    assert E.IntegerLookup.from_config(config)(np.array([1, 2])).tolist() == [2, 3]
    assert E.IntegerLookup(vocabulary=VOCAB, oov_method="farmhash", salt=7).salt == [7, 7]


def test_integer_lookup_refuses_what_it_cannot_do():
    with pytest.raises(ValueError, match="Allowed values are"):
        E.IntegerLookup(vocabulary=VOCAB, num_oov_indices=4, oov_method="murmur")
    with pytest.raises(ValueError, match="`salt` can only be used when `oov_method='farmhash'`"):
        E.IntegerLookup(vocabulary=VOCAB, salt=3)
    with pytest.raises(ValueError, match="tuple of size 2 integers"):
        E.IntegerLookup(vocabulary=VOCAB, oov_method="farmhash", salt=[1, 2, 3])
    with pytest.raises(ValueError, match="repeated term"):
        E.IntegerLookup(vocabulary=[1, 2, 1])
    with pytest.raises(ValueError, match="num_oov_indices=1"):
        E.IntegerLookup(vocabulary=VOCAB, num_oov_indices=0)(np.array([5]))
    with pytest.raises(ValueError, match="integer inputs"):
        E.IntegerLookup(vocabulary=VOCAB)(torch.tensor([1.5]))
    with pytest.raises(ValueError, match="list of integers"):
        E.IntegerLookup(vocabulary="vocab.txt")
    with pytest.raises(RuntimeError, match="set the layer's vocabulary"):
        E.IntegerLookup(output_mode="count")(np.array([[1, 2]]))
