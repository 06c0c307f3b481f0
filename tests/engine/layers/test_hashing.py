"""Hashing and HashedCrossing on integers, with Keras's bin ids.

Keras's own layers need TensorFlow, which is not installed, so Keras cannot compute ids here. The ids
are checked against constants published by Keras and TensorFlow (docstrings and tests: strings for
the hash functions, integers for the layers), against the SipHash paper's test vector, and, where
pyfarmhash is installed, against Google's FarmHash on thousands of values. Configs, shapes and files
are compared with real Keras, whose layers are built with its TensorFlow check lifted (nothing is
hashed by Keras in these tests).
"""
import types

import numpy as np
import pytest
import torch

import engine
from engine import layers as E
from engine.utils import hash_utils as H

from tests.engine.layers.harness import check_config_against_keras

NAMES = ["omar", "stringer", "marlo", "wire", "skywalker"]
INT64 = np.iinfo(np.int64)


def _random_int64(n, seed=0):
    rng = np.random.default_rng(seed)
    values = np.concatenate([
        rng.integers(INT64.min, INT64.max, n, dtype=np.int64, endpoint=True),
        rng.integers(-1000, 1000, n // 4),  # short decimal strings, negatives included
        [0, -1, 1, INT64.min, INT64.max, INT64.min + 1, INT64.max - 1, 10**15, -10**16, 99999999, 100000000]])
    return values.astype(np.int64)


# ---------------------------------------------------------------------------- the hash functions
def test_fingerprint64_gives_tensorflow_and_keras_documented_buckets():
    # tf.strings.to_hash_bucket_fast(["Hello", "TensorFlow", "2.x"], 3) (TensorFlow's docstring)
    assert [H.fingerprint64(s) % 3 for s in ["Hello", "TensorFlow", "2.x"]] == [0, 2, 2]
    # keras.layers.Hashing(num_bins=3) on "A".."E" (Keras's docstring and hashing_test.py)
    assert [H.fingerprint64(s) % 3 for s in "ABCDE"] == [1, 0, 1, 1, 2]
    # Hashing(num_bins=2) on the names (hashing_test.test_hash_dense_input_farmhash)
    assert [int(h) % 2 for h in H.fingerprint64_many(NAMES)] == [0, 0, 1, 0, 0]
    # Hashing(num_bins=3, mask_value=''): the mask gets 0, the rest 1 + hash % 2
    assert [0 if s == "" else 1 + H.fingerprint64(s) % 2 for s in ["A", "B", "", "C", "D"]] == [1, 1, 0, 2, 2]


def test_siphash_matches_the_paper_and_tensorflow_keras_documented_buckets():
    key = (int.from_bytes(bytes(range(8)), "little"), int.from_bytes(bytes(range(8, 16)), "little"))
    assert H.siphash64(bytes(range(15)), key) == 0xA129CA6149BE45E5  # SipHash paper, appendix A
    assert [H.siphash64(s, [1, 2]) % 3 for s in ["Hello", "TF"]] == [2, 0]  # tf.strings.to_hash_bucket_strong
    assert [H.siphash64(s, [133, 137]) % 3 for s in "ABCDE"] == [1, 2, 1, 0, 2]  # Keras's Hashing docstring
    assert [H.siphash64(s, [133, 133]) % 3 for s in "ABCDE"] == [0, 0, 2, 1, 0]  # salt=133
    assert [int(h) % 2 for h in H.siphash64_many(NAMES, [133, 137])] == [0, 1, 0, 1, 0]
    assert [int(h) % 2 for h in H.siphash64_many(NAMES, [211, 137])] == [1, 0, 1, 0, 1]


def test_cross_hash_gives_keras_documented_crossing():
    # keras.layers.HashedCrossing(num_bins=5)((["A", "B", "A", "B", "A"], [101, 101, 101, 102, 102])):
    # a string feature takes part as its Fingerprint64, an integer one as its own value.
    strings = H.fingerprint64_many(list("ABABA"))
    crossed = H.cross_hash([strings, np.array([101, 101, 101, 102, 102])])
    assert (crossed % np.uint64(5)).tolist() == [1, 4, 1, 1, 3]


def test_decimal_strings_are_tensorflow_as_string():
    values = np.array([0, -7, 42, INT64.min, INT64.max])
    rows, lengths = H.decimal_bytes(values)
    assert [bytes(r[:n]).decode() for r, n in zip(rows, lengths)] == [str(v) for v in values.tolist()]


def test_hash_decimal_is_per_value_and_keeps_the_shape():
    values = _random_int64(400).reshape(-1, 1)[:400].reshape(20, 20)
    one_by_one = np.array([H.fingerprint64(str(v)) for v in values.ravel().tolist()], dtype=np.uint64)
    np.testing.assert_array_equal(H.hash_decimal(values), one_by_one.reshape(20, 20))
    salted = np.array([H.siphash64(str(v), [7, -3]) for v in values.ravel().tolist()], dtype=np.uint64)
    np.testing.assert_array_equal(H.hash_decimal(values, [7, -3]), salted.reshape(20, 20))


def test_fingerprint64_matches_pyfarmhash_on_int64_strings_and_bytes_of_every_length():
    farmhash = pytest.importorskip("farmhash")
    values = _random_int64(4000)
    want = np.array([farmhash.fingerprint64(str(v)) for v in values.tolist()], dtype=np.uint64)
    np.testing.assert_array_equal(H.hash_decimal(values), want)
    rng = np.random.default_rng(1)
    data = [rng.integers(0, 256, n, dtype=np.uint8).tobytes() for n in list(range(0, 140)) * 3 + [200, 255, 1000]]
    np.testing.assert_array_equal(H.fingerprint64_many(data),
                                  np.array([farmhash.fingerprint64(d) for d in data], dtype=np.uint64))


# ---------------------------------------------------------------------------- Hashing
def test_hashing_gives_keras_ids_for_integers():
    # Keras's hashing_test.py, integer inputs
    np.testing.assert_array_equal(E.Hashing(num_bins=3)(np.array([[0], [1], [2], [3], [4]])).numpy(),
                                  [[1], [0], [1], [0], [2]])
    np.testing.assert_array_equal(E.Hashing(num_bins=3, salt=[133, 137])(np.array([[0], [1], [2], [3], [4]])).numpy(),
                                  [[1], [1], [2], [0], [1]])
    for data, want in [([1, 2, 3], [1, 1, 1]), ([[1], [2], [3]], [[1], [1], [1]]),
                       ([[1, 2], [2, 3], [3, 4]], [[1, 1], [1, 1], [1, 1]]),
                       ([[[1], [2]], [[2], [3]], [[3], [4]]], [[[1], [1]], [[1], [1]], [[1], [1]]])]:
        assert E.Hashing(num_bins=2)(data).tolist() == want
    for container in (list, tuple, np.array, torch.tensor):
        assert E.Hashing(num_bins=3)(container([0, 1, 2, 3, 4])).tolist() == [1, 0, 1, 0, 2]
    out = E.Hashing(num_bins=3)(np.array([0, 1, 2], dtype=np.int32))
    assert out.dtype == torch.int64 and E.Hashing(num_bins=3, dtype="int32")(np.array([0])).dtype == torch.int32
    assert E.Hashing(num_bins=3)(np.int64(4)).shape == ()  # a scalar stays a scalar


def test_hashing_ids_match_the_hash_on_many_values():
    values = _random_int64(2000)
    got = E.Hashing(num_bins=1009)(values).numpy()
    np.testing.assert_array_equal(got, (H.hash_decimal(values) % np.uint64(1009)).astype(np.int64))
    masked = E.Hashing(num_bins=10, mask_value=-1)(values).numpy()
    want = np.where(values == -1, 0, 1 + (H.hash_decimal(values) % np.uint64(9)).astype(np.int64))
    np.testing.assert_array_equal(masked, want)
    assert (masked == 0).sum() == (values == -1).sum() > 0


def test_hashing_mask_floats_and_single_bin_as_keras():
    # Hashing(num_bins=2) puts 1, 2 and 3 in bin 1 (Keras's test); with a mask bin they go to 1 + 1
    np.testing.assert_array_equal(E.Hashing(num_bins=3, mask_value=2)(np.array([1, 2, 3])).numpy(), [2, 0, 2])
    # floats are cast to int64 (toward zero) before hashing; the mask compares the float values
    np.testing.assert_array_equal(E.Hashing(num_bins=3)(np.array([0.9, 1.2, -0.5, 4.7])).numpy(), [1, 0, 1, 2])
    np.testing.assert_array_equal(E.Hashing(num_bins=3, mask_value=1.2)(np.array([1.0, 1.2])).numpy(), [2, 0])
    # one bin: no mask bin is reserved (Keras masks only when num_bins > 1)
    np.testing.assert_array_equal(E.Hashing(num_bins=1, mask_value=3)(np.arange(5)).numpy(), [0] * 5)


def test_hashing_output_modes_values_and_shapes_as_keras():
    one_hot = E.Hashing(num_bins=3, output_mode="one_hot")
    np.testing.assert_array_equal(one_hot(np.arange(5)).numpy(), np.eye(3)[[1, 0, 1, 0, 2]])
    inp = engine.Input((1,), dtype="int32")
    out = one_hot(inp)
    assert out.shape == (None, 3) and out.dtype == "float32"
    np.testing.assert_array_equal(engine.Model(inp, out)(np.arange(5)[:, None]).numpy(), np.eye(3)[[1, 0, 1, 0, 2]])
    multi = E.Hashing(num_bins=3, output_mode="multi_hot")
    assert multi(engine.Input((None,), dtype="int32")).shape == (None, 3)
    np.testing.assert_array_equal(multi(np.array([[0, 1, 2, 3, 4]])).numpy(), [[1, 1, 1]])
    count = E.Hashing(num_bins=3, output_mode="count")
    np.testing.assert_array_equal(count(np.arange(5)).numpy(), [2, 2, 1])  # a vector is one sample
    np.testing.assert_array_equal(count(np.array([[0, 1, 2, 3, 4]])).numpy(), [[2, 2, 1]])
    assert count(engine.Input((), dtype="int32")).shape == (3,)
    rng = np.random.default_rng(0)
    for shape in [(), (5,), (5, 1), (5, 3), (5, 1, 1), (2, 3, 4)]:
        x = rng.integers(-50, 50, shape)
        for mode in ("int", "one_hot", "multi_hot", "count"):
            layer = E.Hashing(num_bins=4, output_mode=mode)
            assert tuple(layer(x).shape) == layer.compute_output_shape(shape), (shape, mode)


def test_hashing_refuses_what_it_cannot_do():
    with pytest.raises(ValueError, match="hold no strings"):
        E.Hashing(num_bins=3)([["A"], ["B"]])
    with pytest.raises(ValueError, match="hold no strings"):
        E.Hashing(num_bins=3)(np.array(NAMES))
    with pytest.raises(ValueError, match="mask_value='' is a string"):
        E.Hashing(num_bins=3, mask_value="")
    with pytest.raises(ValueError, match="cannot be `None` or non-positive"):
        E.Hashing(num_bins=0)
    with pytest.raises(ValueError, match="cannot be `None` or non-positive"):
        E.Hashing(num_bins=None)
    for salt in ("string", [1], [133, 137, 177]):
        with pytest.raises(ValueError, match="can only be a tuple of size 2"):
            E.Hashing(num_bins=2, salt=salt)
    with pytest.raises(ValueError, match="signed 64-bit"):
        E.Hashing(num_bins=2, salt=[2**64, 1])
    with pytest.raises(ValueError, match="Invalid value for argument `output_mode`"):
        E.Hashing(num_bins=3, output_mode="tf_idf")
    with pytest.raises(ValueError, match="should be an integer type"):
        E.Hashing(num_bins=3, output_mode="int", dtype="float32")
    with pytest.raises(ValueError, match="`sparse` may only be true"):
        E.Hashing(num_bins=3, sparse=True)
    with pytest.raises(ValueError, match="sparse=True is not supported by the engine"):
        E.Hashing(num_bins=3, output_mode="count", sparse=True)
    with pytest.raises(ValueError, match="booleans"):
        E.Hashing(num_bins=3)(np.array([True, False]))
    with pytest.raises(ValueError, match="NaN or infinite"):
        E.Hashing(num_bins=3)(np.array([1.0, np.nan]))


# ---------------------------------------------------------------------------- HashedCrossing
def test_hashed_crossing_ids_shapes_and_modes():
    a, b = _random_int64(300, seed=2), _random_int64(300, seed=3)
    got = E.HashedCrossing(num_bins=97)((a, b)).numpy()
    np.testing.assert_array_equal(got, (H.cross_hash([a, b]) % np.uint64(97)).astype(np.int64))
    # the order of the features matters, as in TensorFlow's FingerprintCat64
    assert not np.array_equal(got, E.HashedCrossing(num_bins=97)((b, a)).numpy())
    three = E.HashedCrossing(num_bins=97)([a[:, None], b[:, None], a[:, None]]).numpy()
    np.testing.assert_array_equal(three[:, 0], (H.cross_hash([a, b, a]) % np.uint64(97)).astype(np.int64))
    # Keras's hashed_crossing_test.test_basics: shapes (2,) and (2, 4)
    assert E.HashedCrossing(num_bins=3)((np.array([1, 2]), np.array([4, 5]))).shape == (2,)
    one_hot = E.HashedCrossing(num_bins=4, output_mode="one_hot")
    out = one_hot((np.array([1, 2]), np.array([4, 5])))
    assert out.shape == (2, 4) and out.dtype == torch.float32
    ids = E.HashedCrossing(num_bins=4)((np.array([1, 2]), np.array([4, 5]))).numpy()
    np.testing.assert_array_equal(out.numpy(), np.eye(4)[ids])
    assert E.HashedCrossing(num_bins=3)((np.int64(7), np.int64(8))).shape == ()
    assert E.HashedCrossing(num_bins=3)((np.array([1, 2]), np.array([4, 5]))).dtype == torch.int64
    # int32 features cross as their int64 values
    small_a, small_b = a[:50] % 1000, b[:50] % 1000
    np.testing.assert_array_equal(E.HashedCrossing(num_bins=7)((small_a.astype(np.int32), small_b)).numpy(),
                                  E.HashedCrossing(num_bins=7)((small_a, small_b)).numpy())


def test_hashed_crossing_in_a_model_and_its_shapes():
    x1, x2 = engine.Input((1,), dtype="int64"), engine.Input((1,), dtype="int64")
    out = E.HashedCrossing(num_bins=8, output_mode="one_hot", name="cross")([x1, x2])
    assert out.shape == (None, 8)
    model = engine.Model([x1, x2], E.Dense(2)(out))
    a, b = np.arange(6)[:, None], (np.arange(6) * 7)[:, None]
    assert model.predict([a, b], verbose=0).shape == (6, 2)
    layer = E.HashedCrossing(num_bins=8)
    assert layer.compute_output_shape([(None,), (None,)]) == (None,)
    assert layer.compute_output_shape([(None, 1), (None, 1)]) == (None, 1)
    with pytest.raises(ValueError, match="equal shape"):
        layer.compute_output_shape([(None, 1), (None,)])


def test_hashed_crossing_refuses_what_it_cannot_do():
    layer = E.HashedCrossing(num_bins=10)
    with pytest.raises(ValueError, match="should be called on a list"):
        layer(np.array(1))
    with pytest.raises(ValueError, match="at least two inputs"):
        layer([np.array(1)])
    with pytest.raises(ValueError, match="inputs should have shape"):
        layer((np.array([[[1]]]), np.array([[[1]]])))
    with pytest.raises(ValueError, match="integer or string dtype"):
        layer((np.array([1.0]), np.array([1.0])))
    with pytest.raises(ValueError, match="hold no strings"):
        layer((np.array(["A", "B"]), np.array([101, 102])))
    with pytest.raises(ValueError, match="TensorFlow backend"):
        E.HashedCrossing(num_bins=5, output_mode="one_hot", sparse=True)
    with pytest.raises(ValueError, match="output_mode"):
        E.HashedCrossing(num_bins=5, output_mode="multi_hot")


# ---------------------------------------------------------------------------- Keras: configs and files
@pytest.fixture
def keras_hashing(keras, monkeypatch):
    """Keras whose Hashing/HashedCrossing can be built (configs, shapes, saving) without TensorFlow."""
    from keras.src.layers.preprocessing import hashed_crossing, hashing

    lifted = types.SimpleNamespace(available=True)
    monkeypatch.setattr(hashing, "tf", lifted)
    monkeypatch.setattr(hashed_crossing, "tf", lifted)
    return keras


@pytest.mark.parametrize("kwargs", [{"num_bins": 8}, {"num_bins": 5, "salt": 133, "mask_value": 0},
                                    {"num_bins": 4, "salt": [1, 2], "output_mode": "count"},
                                    {"num_bins": 3, "output_mode": "one_hot", "dtype": "float64"},
                                    {"num_bins": 3, "dtype": "int32"}])
def test_hashing_config_is_keras(keras_hashing, kwargs):
    check_config_against_keras(lambda L: L.Hashing(name="hash", **kwargs), keras=keras_hashing)


@pytest.mark.parametrize("kwargs", [{"num_bins": 8}, {"num_bins": 5, "output_mode": "one_hot"},
                                    {"num_bins": 5, "dtype": "int32"}])
def test_hashed_crossing_config_is_keras(keras_hashing, kwargs):
    check_config_against_keras(lambda L: L.HashedCrossing(name="cross", **kwargs), keras=keras_hashing)


def _model(L, api):
    a, b = api.Input((1,), dtype="int64", name="a"), api.Input((1,), dtype="int64", name="b")
    crossed = L.HashedCrossing(num_bins=16, output_mode="one_hot", name="cross")([a, b])
    hashed = L.Hashing(num_bins=6, mask_value=0, salt=[3, 4], output_mode="one_hot", name="hash")(a)
    return api.Model([a, b], L.Concatenate(name="cat")([crossed, hashed]))


def test_keras_files_with_hashing_layers_load_both_ways(keras_hashing, tmp_path):
    k_model = _model(keras_hashing.layers, keras_hashing)
    k_model.save(tmp_path / "k.keras")
    e_model = engine.models.load_model(str(tmp_path / "k.keras"))
    assert e_model.output_shape == k_model.output_shape == (None, 22)
    a = np.array([[0], [5], [-3], [INT64.max]])
    b = np.array([[1], [1], [2], [INT64.min]])
    got = e_model.predict([a, b], verbose=0)
    cross = (H.cross_hash([a[:, 0], b[:, 0]]) % np.uint64(16)).astype(int)
    hashed = np.where(a[:, 0] == 0, 0, 1 + (H.hash_decimal(a[:, 0], [3, 4]) % np.uint64(5)).astype(int))
    np.testing.assert_array_equal(got, np.concatenate([np.eye(16)[cross], np.eye(6)[hashed]], axis=1))

    e_model = _model(E, engine)
    e_model.save(str(tmp_path / "e.keras"))
    back = keras_hashing.models.load_model(tmp_path / "e.keras")
    for name in ("cross", "hash"):
        k_cfg, e_cfg = back.get_layer(name).get_config(), k_model.get_layer(name).get_config()
        assert k_cfg == e_cfg, name
    assert back.output_shape == (None, 22)

    # JSON, both ways
    from_keras = engine.models.model_from_json(k_model.to_json())
    np.testing.assert_array_equal(from_keras.predict([a, b], verbose=0), got)
    from_engine = keras_hashing.models.model_from_json(e_model.to_json())
    assert from_engine.get_layer("hash").get_config() == k_model.get_layer("hash").get_config()
    assert from_engine.get_layer("cross").get_config() == k_model.get_layer("cross").get_config()
