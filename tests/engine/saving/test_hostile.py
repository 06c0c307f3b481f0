"""A model file is untrusted input: every attack is refused with ``ModelFileError`` before it can act.

Each test checks the refusal (and its message) and, where the payload would create a file, that the
sentinel file does not exist afterwards. The fuzz test mutates valid files and accepts only a loaded
model or ``ModelFileError``, within a time bound.
"""
import io
import json
import time
import zipfile

import h5py
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine
from engine.saving import ConfigError, ModelFileError
from tests.engine.saving import zoo


@pytest.fixture
def small(tmp_path):
    """A compiled, trained two-input two-output model saved in every format."""
    model = zoo.two_in_two_out(engine)
    model.compile("adam", ["mse", "mse"])
    model.fit(zoo.inputs_for(model, 4), zoo.targets_for(model, 4), verbose=0)
    paths = {ext: str(tmp_path / f"valid.{ext}") for ext in ("keras", "h5", "weights.h5")}
    model.save(paths["keras"])
    model.save(paths["h5"])
    model.save_weights(paths["weights.h5"])
    paths["json"] = str(tmp_path / "valid.json")
    with open(paths["json"], "w") as f:
        f.write(model.to_json())
    return model, paths


def _members(path):
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _write_zip(path, members, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def _refused(path, *match, loader=None):
    loader = loader or engine.models.load_model
    with pytest.raises(ModelFileError) as info:
        loader(path)
    msg = str(info.value)
    assert str(path) in msg, msg
    for m in match:
        assert m.lower() in msg.lower(), msg
    return msg


# ---------------------------------------------------------------------------------------------- code in files
def test_keras_lambda_layer_is_refused_and_never_runs(keras, tmp_path):
    sentinel = tmp_path / "lambda_ran"

    def payload(x):
        open(str(sentinel), "w").close()
        return x

    inp = keras.Input((3,))
    kmodel = keras.Model(inp, keras.layers.Dense(2)(keras.layers.Lambda(payload)(inp)))
    sentinel.unlink()  # Keras ran it once while building the graph
    for ext in ("keras", "h5"):
        path = tmp_path / f"lambda.{ext}"
        kmodel.save(str(path))
        _refused(str(path), "Lambda")
        assert not sentinel.exists()
        with pytest.raises(ModelFileError):
            engine.models.load_model(str(path), safe_mode=False)  # never unsafe
        assert not sentinel.exists()


def test_module_named_in_config_is_never_imported(small, tmp_path):
    _, paths = small
    sentinel = tmp_path / "imported"
    config = json.loads(_members(paths["keras"])["config.json"])
    # CVE-2025-1550 style: a class "resolved" by importing the module named in the file.
    config["config"]["layers"][2]["module"] = "subprocess"
    config["config"]["layers"][2]["class_name"] = "Popen"
    config["config"]["layers"][2]["config"] = {"args": ["touch", str(sentinel)]}
    members = _members(paths["keras"])
    members["config.json"] = json.dumps(config).encode()
    path = tmp_path / "import.keras"
    _write_zip(str(path), members)
    _refused(str(path), "Popen")
    assert not sentinel.exists()
    # The same through a nested object (an initializer), and through plain JSON.
    config = json.loads(_members(paths["keras"])["config.json"])
    dense = next(l for l in config["config"]["layers"] if l["class_name"] == "Dense")
    dense["config"]["kernel_initializer"] = {"module": "os", "class_name": "system",
                                             "config": f"touch {sentinel}", "registered_name": None}
    members["config.json"] = json.dumps(config).encode()
    _write_zip(str(path), members)
    _refused(str(path), "system")
    with pytest.raises(ConfigError):
        engine.models.model_from_json(json.dumps(config))
    assert not sentinel.exists()


def test_unknown_class_is_refused_with_its_name(small, tmp_path):
    _, paths = small
    config = json.loads(_members(paths["keras"])["config.json"])
    config["config"]["layers"][2]["class_name"] = "MyVeryOwnLayer"
    members = _members(paths["keras"])
    members["config.json"] = json.dumps(config).encode()
    path = tmp_path / "unknown.keras"
    _write_zip(str(path), members)
    msg = _refused(str(path), "MyVeryOwnLayer", "custom_objects")
    assert "Dense" in msg  # the known names are listed


# ---------------------------------------------------------------------------------------------- HDF5 attacks
def _copy_weights_file(src, dst, edit):
    with h5py.File(src, "r") as a, h5py.File(dst, "w") as b:
        for k, v in a.attrs.items():
            b.attrs[k] = v
        for k in a:
            a.copy(a[k], b, name=k)
        edit(b)


def test_hdf5_soft_link_is_refused(small, tmp_path):
    model, paths = small
    path = str(tmp_path / "soft.weights.h5")

    def edit(f):
        vars_group = f["layers/dense/vars"]
        del vars_group["0"]
        vars_group["0"] = h5py.SoftLink("/layers/dense_1/vars/0")

    _copy_weights_file(paths["weights.h5"], path, edit)
    _refused(path, "soft link", loader=model.load_weights)


def test_hdf5_external_link_is_refused(small, tmp_path):
    model, paths = small
    other = str(tmp_path / "other.h5")
    with h5py.File(other, "w") as f:
        f["kernel"] = np.zeros((4, 3), "float32")
    path = str(tmp_path / "external_link.h5")

    def edit(f):
        names = [n.decode() for n in f["model_weights"].attrs["layer_names"]]
        layer = next(n for n in names if n.startswith("dense"))
        group = f[f"model_weights/{layer}"]
        wname = group.attrs["weight_names"][0].decode()
        del group[wname]
        group[wname] = h5py.ExternalLink(other, "/kernel")

    _copy_weights_file(paths["h5"], path, edit)
    _refused(path, "external link")


def test_hdf5_external_dataset_is_refused(small, tmp_path):
    model, paths = small
    raw = tmp_path / "raw.bin"
    raw.write_bytes(np.ones(100, "float32").tobytes())
    path = str(tmp_path / "external_ds.weights.h5")

    def edit(f):
        vars_group = f["layers/dense/vars"]
        shape = vars_group["0"].shape
        del vars_group["0"]
        vars_group.create_dataset("0", shape=shape, dtype="float32", external=[(str(raw), 0, h5py.h5f.UNLIMITED)])

    _copy_weights_file(paths["weights.h5"], path, edit)
    _refused(path, "external", loader=model.load_weights)


def test_hdf5_virtual_dataset_is_refused(small, tmp_path):
    model, paths = small
    path = str(tmp_path / "virtual.weights.h5")

    def edit(f):
        vars_group = f["layers/dense/vars"]
        shape = vars_group["0"].shape
        f["source"] = np.ones(shape, "float32")
        layout = h5py.VirtualLayout(shape=shape, dtype="float32")
        layout[...] = h5py.VirtualSource(f["source"])
        del vars_group["0"]
        vars_group.create_virtual_dataset("0", layout)

    _copy_weights_file(paths["weights.h5"], path, edit)
    _refused(path, "virtual", loader=model.load_weights)


def test_hdf5_shape_bomb_is_refused_before_reading(small, tmp_path):
    model, paths = small
    path = str(tmp_path / "bomb.weights.h5")

    def edit(f):
        vars_group = f["layers/dense/vars"]
        del vars_group["0"]
        # 4 TB declared, a few bytes stored: reading it would exhaust memory.
        vars_group.create_dataset("0", shape=(10**6, 10**6), dtype="float32", chunks=(1, 1024), compression="gzip")

    _copy_weights_file(paths["weights.h5"], path, edit)
    start = time.perf_counter()
    _refused(path, "shape", loader=model.load_weights)
    assert time.perf_counter() - start < 5


def test_wrong_weight_shape_and_missing_weights_are_refused_without_changing_the_model(small, tmp_path):
    model, paths = small
    before = model.get_weights()
    path = str(tmp_path / "shape.weights.h5")

    def edit(f):
        del f["layers/dense_1/vars/1"]
        f["layers/dense_1/vars/1"] = np.zeros((7,), "float32")
        f["layers/dense/vars/0"][...] = 42.0

    _copy_weights_file(paths["weights.h5"], path, edit)
    _refused(path, "shape", loader=model.load_weights)
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), before))  # nothing half-loaded

    def drop(f):
        del f["layers/dense_2"]

    _copy_weights_file(paths["weights.h5"], path, drop)
    _refused(path, "no weights", loader=model.load_weights)


# ---------------------------------------------------------------------------------------------- zip attacks
def test_zip_bomb_is_refused_before_decompressing(small, tmp_path):
    _, paths = small
    members = _members(paths["keras"])
    members["model.weights.h5"] = members["model.weights.h5"] + b"\x00" * (64 * 1024 * 1024)
    path = str(tmp_path / "bomb.keras")
    _write_zip(path, members, compression=zipfile.ZIP_DEFLATED)
    start = time.perf_counter()
    _refused(path, "bomb")
    assert time.perf_counter() - start < 5


def test_archive_entries_outside_the_archive_are_refused(small, tmp_path):
    _, paths = small
    sentinel_name = "zip_slip_sentinel.txt"
    for evil in (f"../{sentinel_name}", f"/tmp/{sentinel_name}", f"assets/../../{sentinel_name}"):
        members = _members(paths["keras"])
        members[evil] = b"owned"
        path = tmp_path / "sub" / "slip.keras"
        path.parent.mkdir(exist_ok=True)
        _write_zip(str(path), members)
        _refused(str(path), "outside the archive")
        assert not (tmp_path / sentinel_name).exists()
        assert not (path.parent / sentinel_name).exists()


def test_deeply_nested_json_is_refused(small, tmp_path):
    _, paths = small
    deep = "[" * 100_000 + "]" * 100_000
    members = _members(paths["keras"])
    members["config.json"] = deep.encode()
    path = str(tmp_path / "deep.keras")
    _write_zip(path, members)
    _refused(path, "nest")
    json_path = tmp_path / "deep.json"
    json_path.write_text('{"class_name": "Sequential", "config": {"layers": ' + "[" * 500 + "]" * 500 + "}}")
    _refused(str(json_path), "nest")
    with pytest.raises(ConfigError, match="nest"):
        engine.models.model_from_json('{"a": ' * 50_000 + "1" + "}" * 50_000)


# ---------------------------------------------------------------------------------------------- malformed files
@pytest.mark.parametrize("ext", ["keras", "h5"])
def test_truncated_and_garbage_files(small, tmp_path, ext):
    _, paths = small
    data = open(paths[ext], "rb").read()
    for i, blob in enumerate([data[: len(data) // 2], data[:100], b"", b"garbage" * 100, data[:8] + b"\x00" * 500]):
        path = tmp_path / f"bad{i}.{ext}"
        path.write_bytes(blob)
        _refused(str(path))
    _refused(str(tmp_path / f"missing.{ext}"), "does not exist")


def test_wrong_types_and_missing_keys_in_config(small, tmp_path):
    _, paths = small
    base = json.loads(_members(paths["keras"])["config.json"])
    edits = [
        lambda c: c.pop("config"),
        lambda c: c["config"].pop("layers"),
        lambda c: c["config"].__setitem__("layers", "dense"),
        lambda c: c["config"]["layers"].__setitem__(2, ["not", "a", "dict"]),
        lambda c: c["config"]["layers"][2]["config"].__setitem__("units", "many"),
        lambda c: c["config"]["layers"][2]["config"].__setitem__("units", -3),
        lambda c: c["config"].__setitem__("output_layers", [["nowhere", 0, 0]]),
        lambda c: c["config"]["layers"][3].__setitem__("inbound_nodes", [{"args": 5}]),
        lambda c: c.__setitem__("compile_config", {"optimizer": 3, "loss": "mse"}),
        lambda c: c.__setitem__("compile_config", {"optimizer": "adam", "loss": "no_such_loss"}),
        lambda c: c.__setitem__("compile_config", {"optimizer": "adam", "loss": "mse", "steps_per_execution": -2}),
        lambda c: c.__setitem__("compile_config", {"optimizer": "adam", "loss": "mse", "steps_per_execution": "4"}),
        lambda c: c.__setitem__("compile_config", {"optimizer": "adam", "loss": "mse", "jit_compile": "yes"}),
        lambda c: c.__setitem__("compile_config", {"optimizer": "adam", "loss": "mse", "run_eagerly": 1}),
    ]
    for i, edit in enumerate(edits):
        config = json.loads(json.dumps(base))
        edit(config)
        members = _members(paths["keras"])
        members["config.json"] = json.dumps(config).encode()
        path = tmp_path / f"cfg{i}.keras"
        _write_zip(str(path), members)
        _refused(str(path))


# ---------------------------------------------------------------------------------------------- fuzzing
def _mutate(data, ops):
    data = bytearray(data)
    for kind, pos, value in ops:
        if not data:
            break
        i = pos % len(data)
        if kind == 0:
            data[i] = value
        elif kind == 1:
            del data[i:]
        else:
            data[i:i] = bytes([value]) * 8
    return bytes(data)


_OPS = st.lists(st.tuples(st.integers(0, 2), st.integers(0, 2**31), st.integers(0, 255)), min_size=1, max_size=12)


@pytest.fixture(scope="module")
def fuzz_files(tmp_path_factory):
    from engine import backend

    backend.clear_session()
    model = zoo.two_in_two_out(engine)
    model.compile("adam", ["mse", "mse"], metrics=[["mae"], []])
    model.fit(zoo.inputs_for(model, 4), zoo.targets_for(model, 4), verbose=0)
    d = tmp_path_factory.mktemp("fuzz")
    model.save(str(d / "v.keras"))
    model.save(str(d / "v.h5"))
    model.save_weights(str(d / "v.weights.h5"))
    return model, d, {ext: (d / f"v.{ext}").read_bytes() for ext in ("keras", "h5", "weights.h5")}


def _load_mutated(model, path, loader_kind):
    start = time.perf_counter()
    try:
        if loader_kind == "weights":
            model.load_weights(path)
        else:
            engine.models.load_model(path)
    except ModelFileError as e:
        assert str(path) in str(e)
    assert time.perf_counter() - start < 10


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(ext=st.sampled_from(["h5", "weights.h5", "raw.keras"]), ops=_OPS)
def test_fuzz_mutated_files_raise_only_model_file_error(fuzz_files, ext, ops):
    model, d, originals = fuzz_files
    source = originals[ext.replace("raw.", "")]
    path = str(d / f"mutated.{ext}")
    with open(path, "wb") as f:
        f.write(_mutate(source, ops))
    _load_mutated(model, path, "weights" if ext == "weights.h5" else "model")


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(member=st.sampled_from(["config.json", "model.weights.h5", "metadata.json"]), ops=_OPS)
def test_fuzz_mutated_keras_members_raise_only_model_file_error(fuzz_files, member, ops):
    # Mutating the archive's bytes mostly breaks its checksums; mutate a member and re-zip it instead.
    model, d, originals = fuzz_files
    members = {n: v for n, v in _members_from_bytes(originals["keras"]).items()}
    members[member] = _mutate(members[member], ops)
    path = str(d / "mutated_member.keras")
    _write_zip(path, members)
    _load_mutated(model, path, "model")


def _members_from_bytes(data):
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def test_config_asking_for_absurd_weights_is_refused_before_allocation(tmp_path, monkeypatch):
    import json

    import engine
    from engine.saving import ModelFileError

    cfg = {"class_name": "Sequential", "config": {"name": "s", "layers": [
        {"class_name": "InputLayer", "config": {"batch_shape": [None, 100000]}},
        {"class_name": "Dense", "config": {"units": 10**9}}]}}
    path = tmp_path / "huge.json"
    path.write_text(json.dumps(cfg))
    with pytest.raises(ModelFileError, match="VISUALKERAS_MAX_PARAMS"):
        engine.models.load_model(str(path))
    # A normal model under the same budget still loads.
    cfg["config"]["layers"][1]["config"]["units"] = 3
    path.write_text(json.dumps(cfg))
    assert engine.models.load_model(str(path)).count_params() == 300003
