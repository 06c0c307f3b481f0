"""``IntegerLookup``: maps integer features to contiguous indices through a vocabulary, as Keras's
(which needs TensorFlow; the engine's runs on torch). Strings are refused (``StringLookup``). Keras's
FarmHash OOV method gives Keras's indices (``engine.utils.hash_utils``)."""
from __future__ import annotations

import numpy as np
import torch

from engine import backend
from engine.layers.core import describe
from engine.layers.hashing import salt_pair
from engine.layers.layer import Layer
from engine.layers.registry import register
from engine.utils.hash_utils import hash_decimal

__all__ = ["IntegerLookup"]

_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")


def _as_numpy(x):
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


@register("Preprocessing")
class IntegerLookup(Layer):
    """Maps integers to indices in a vocabulary (or back, with ``invert``). Index 0 is the mask token
    when ``mask_token`` is set (in ``"int"`` mode), then ``num_oov_indices`` indices for values not in
    the vocabulary, then the vocabulary in order. ``adapt(data)`` learns the vocabulary, most frequent
    first (ties: larger values first), as Keras does.

    Args:
        max_tokens: the largest vocabulary size, special indices included (None: no limit).
        num_oov_indices: indices for out-of-vocabulary values (1); with several, a value ``v`` goes to
            ``v mod num_oov_indices``.
        mask_token: the value that means "masked" (None: none).
        oov_token: the value ``invert`` returns for OOV indices (-1).
        vocabulary: a list of integers (or None, then ``adapt``).
        vocabulary_dtype: only ``"int64"``.
        idf_weights: with ``output_mode="tf_idf"``, one weight per vocabulary entry.
        invert: map indices back to values.
        output_mode: ``"int"`` (default), ``"one_hot"``, ``"multi_hot"``, ``"count"`` or ``"tf_idf"``.
        sparse: only False.
        pad_to_max_tokens: make encoded outputs ``max_tokens`` wide.
        oov_method: how several OOV indices are chosen: ``"floormod"`` (``v mod num_oov_indices``) or
            ``"farmhash"`` (FarmHash of the value's decimal string, as Keras's).
        salt: with ``"farmhash"``, an integer or two: SipHash keyed by them instead (None: FarmHash).

    Input shape:
        Integers of any shape.

    Output shape:
        The same shape (``"int"``), or the last axis replaced by the vocabulary size (encodings).
    """

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token=-1, vocabulary=None,
                 vocabulary_dtype="int64", idf_weights=None, invert=False, output_mode="int", sparse=False,
                 pad_to_max_tokens=False, oov_method="floormod", salt=None, name=None, **kwargs):
        frozen = kwargs.pop("vocabulary_size", None)
        kwargs.pop("has_input_vocabulary", None)
        super().__init__(name=name, **kwargs)
        if max_tokens is not None and max_tokens <= 1:
            raise ValueError("If `max_tokens` is set for `IntegerLookup`, it must be greater than 1. "
                             f"Received: max_tokens={max_tokens}")
        if num_oov_indices < 0:
            raise ValueError("The value of `num_oov_indices` argument for `IntegerLookup` must >= 0. "
                             f"Received: num_oov_indices={num_oov_indices}")
        if sparse:
            raise ValueError("`sparse=True` can only be used with the TensorFlow backend.")
        if vocabulary_dtype != "int64":
            raise ValueError(f"Only `vocabulary_dtype='int64'` is supported at this time. Received: "
                             f"vocabulary_dtype={vocabulary_dtype}")
        if output_mode == "binary":
            output_mode = "multi_hot"
        if output_mode == "tf-idf":
            output_mode = "tf_idf"
        if output_mode not in _MODES:
            raise ValueError(f"Unknown value for `output_mode`: {output_mode!r}. Expected one of {_MODES}.")
        if invert and output_mode != "int":
            raise ValueError("`output_mode` must be `'int'` when `invert` is true. "
                             f"Received: output_mode={output_mode}")
        if idf_weights is not None and output_mode != "tf_idf":
            raise ValueError("`idf_weights` should only be set if `output_mode` is `'tf_idf'`. Received: "
                             f"idf_weights={idf_weights} and output_mode={output_mode}")
        if oov_method not in ("floormod", "farmhash"):
            raise ValueError(f"Unknown value for `oov_method` argument of {type(self).__name__}. Allowed values are: "
                             f"('floormod', 'farmhash'). Received: oov_method={oov_method}")
        if salt is not None and oov_method != "farmhash":
            raise ValueError(f"`salt` can only be used when `oov_method='farmhash'`. Received: oov_method={oov_method}")
        salt = salt_pair(salt, "IndexLookup")
        if isinstance(vocabulary, str):
            raise ValueError(f"{describe(self)}: a vocabulary file ({vocabulary!r}) would be read from outside the "
                             "model; pass the vocabulary as a list of integers.")
        self.max_tokens = max_tokens
        self.num_oov_indices = int(num_oov_indices)
        self.mask_token = mask_token
        self.oov_token = oov_token
        self.vocabulary_dtype = vocabulary_dtype
        self.invert = invert
        self.output_mode = output_mode
        self.sparse = sparse
        self.pad_to_max_tokens = pad_to_max_tokens
        self.oov_method = oov_method
        self.salt = salt
        self.input_vocabulary = None if vocabulary is None else [int(v) for v in _as_numpy(vocabulary).ravel()]
        self.input_idf_weights = None if idf_weights is None else [float(v) for v in _as_numpy(idf_weights).ravel()]
        self._tokens = np.zeros((0,), dtype=np.int64)
        self._frozen_vocab_size = frozen
        self.idf_weights = None
        if output_mode == "tf_idf" and vocabulary is not None and idf_weights is None:
            raise ValueError("When specifying the `vocabulary` argument, in TF-IDF output mode, the `idf_weights` "
                             "argument must also be provided.")
        if vocabulary is not None:
            self.set_vocabulary(self.input_vocabulary, self.input_idf_weights)
        self.built = True

    # ------------------------------------------------------------------ vocabulary
    def _oov_start_index(self):
        return 1 if self.mask_token is not None and self.output_mode == "int" else 0

    def _token_start_index(self):
        return self._oov_start_index() + self.num_oov_indices

    def vocabulary_size(self):
        return len(self._tokens) + self._token_start_index()

    def get_vocabulary(self, include_special_tokens=True):
        vocab = [self.oov_token] * self._token_start_index() + [int(t) for t in self._tokens]
        if self.mask_token is not None and self.output_mode == "int":
            vocab[0] = self.mask_token
        return vocab if include_special_tokens else vocab[self._token_start_index():]

    def set_vocabulary(self, vocabulary, idf_weights=None):
        if self.output_mode == "tf_idf" and idf_weights is None:
            raise ValueError("`idf_weights` must be set if output_mode is 'tf_idf'.")
        if self.output_mode != "tf_idf" and idf_weights is not None:
            raise ValueError("`idf_weights` should only be set if output_mode is `'tf_idf'`. Received: "
                             f"output_mode={self.output_mode} and idf_weights={idf_weights}")
        vocab = _as_numpy(vocabulary).astype(np.int64).ravel()
        if vocab.size == 0:
            raise ValueError(f"Cannot set an empty vocabulary. Received: vocabulary={list(vocab)}")
        start = self._token_start_index()
        special = [self.mask_token] * self._oov_start_index() + [self.oov_token] * self.num_oov_indices
        found_special = len(vocab) >= start and list(vocab[:start]) == special
        tokens = vocab[start:] if found_special else vocab
        values, counts = np.unique(tokens, return_counts=True)
        if (counts > 1).any():
            raise ValueError("The passed vocabulary has at least one repeated term. Please uniquify your dataset. "
                             f"The repeated terms are: {[int(v) for v in values[counts > 1]]}")
        if self.mask_token is not None and self.mask_token in tokens:
            raise ValueError("Found reserved mask token at unexpected location in `vocabulary`. Either remove all "
                             "mask and OOV tokens, or include them only at the start of the vocabulary in precisely "
                             f"this order: {special}. Received: mask_token={self.mask_token}")
        if self.oov_token is not None and self.invert and self.oov_token in tokens:
            raise ValueError("Found reserved OOV token at unexpected location in `vocabulary`. Either remove all "
                             "mask and OOV tokens, or include them only at the start of the vocabulary in precisely "
                             f"this order: {special}. Received: oov_token={self.oov_token}")
        if self.max_tokens is not None and start + len(tokens) > self.max_tokens:
            raise ValueError("Attempted to set a vocabulary larger than the maximum vocab size. Received vocabulary "
                             f"size is {start + len(tokens)}; `max_tokens` is {self.max_tokens}.")
        self._tokens = tokens.astype(np.int64)
        self._record_size()
        if self.output_mode == "tf_idf":
            weights = np.asarray(idf_weights, dtype=np.float64).ravel()
            if len(weights) != len(vocab):
                raise ValueError(f"`idf_weights` must be the same length as vocabulary. len(idf_weights) is "
                                 f"{len(weights)}; len(vocabulary) is {len(vocab)}")
            front = 0 if found_special else start
            front_value = 0 if found_special else float(np.average(weights))
            back = (self.max_tokens - front - len(weights)) if self.pad_to_max_tokens and self.max_tokens else 0
            weights = np.pad(weights, (front, back), "constant", constant_values=(front_value, 0))
            self.idf_weights = torch.tensor(weights, dtype=backend.torch_dtype(backend.floatx()))

    def _record_size(self):
        if self.output_mode != "int" and not self.pad_to_max_tokens and self._frozen_vocab_size is not None \
                and self._frozen_vocab_size != self.vocabulary_size() and self._called:
            raise RuntimeError(f"When using `output_mode={self.output_mode}` and `pad_to_max_tokens=False`, the "
                               "vocabulary size cannot be changed after the layer is called. Old vocab size is "
                               f"{self._frozen_vocab_size}, new vocab size is {self.vocabulary_size()}")
        self._frozen_vocab_size = self.vocabulary_size()

    _called = False

    def adapt(self, data, steps=None):
        """Learn the vocabulary from ``data`` (an array, or an iterable of batches): the most frequent
        values first; with ``"tf_idf"``, also the inverse document frequencies (each row is a document)."""
        if self.input_vocabulary is not None:
            raise ValueError(f"Cannot adapt layer '{self.name}' after setting a static vocabulary via "
                             "`vocabulary` argument or `set_vocabulary()` method.")
        if isinstance(data, (list, tuple, np.ndarray, torch.Tensor)):
            batches = [data]
        else:
            batches = []
            for i, batch in enumerate(data):
                if steps is not None and i >= steps:
                    break
                batches.append(batch[0] if isinstance(batch, tuple) else batch)
        counts, doc_counts, documents = {}, {}, 0
        for batch in batches:
            arr = _as_numpy(batch).astype(np.int64)
            if arr.ndim == 0:
                arr = arr.reshape(1, 1)
            if arr.ndim == 1:
                arr = arr[None] if len(batches) > 1 or not isinstance(data, (list, tuple, np.ndarray, torch.Tensor)) \
                    else arr[:, None]
            for value, count in zip(*np.unique(arr, return_counts=True)):
                counts[int(value)] = counts.get(int(value), 0) + int(count)
            for row in arr.reshape(arr.shape[0], -1):
                for value in np.unique(row):
                    doc_counts[int(value)] = doc_counts.get(int(value), 0) + 1
            documents += arr.shape[0]
        for special in (self.mask_token, self.oov_token):
            if special is not None:
                counts.pop(int(special), None)
        if not counts:
            self._record_size()
            return
        tokens = np.array(list(counts), dtype=np.int64)
        freq = np.array([counts[t] for t in tokens], dtype=np.int64)
        order = np.lexsort((tokens, freq))[::-1]
        if self.max_tokens:
            order = order[:self.max_tokens - self._token_start_index()]
        self._tokens = tokens[order]
        self._record_size()
        if self.output_mode == "tf_idf":
            dc = np.array([doc_counts[int(t)] for t in self._tokens], dtype=np.float64)
            idf = np.log(1 + documents / (1 + dc)).astype(np.float32)
            idf = np.pad(idf, (self._token_start_index(), 0), constant_values=float(np.mean(idf)))
            if self.pad_to_max_tokens and self.max_tokens is not None:
                idf = np.pad(idf, (0, self.max_tokens - idf.size), constant_values=0)
            self.idf_weights = torch.tensor(idf, dtype=backend.torch_dtype(backend.floatx()))

    # ------------------------------------------------------------------ lookup
    def _lookup(self, x):
        device = x.device
        tokens = torch.as_tensor(self._tokens, device=device)
        start = self._token_start_index()
        if self.invert:
            idx = x.long()
            values = torch.full_like(idx, int(self.oov_token if self.oov_token is not None else -1))
            valid = (idx >= start) & (idx < start + len(tokens))
            if len(tokens):
                values = torch.where(valid, tokens[(idx - start).clamp(0, max(len(tokens) - 1, 0))], values)
            if self.mask_token is not None:
                values = torch.where(idx == 0, torch.full_like(values, int(self.mask_token)), values)
            return values
        x = x.long()
        if len(tokens):
            order = torch.argsort(tokens)
            sorted_tokens = tokens[order]
            pos = torch.searchsorted(sorted_tokens, x.reshape(-1)).clamp(max=len(tokens) - 1).reshape(x.shape)
            found = sorted_tokens[pos] == x
            indices = order[pos] + start
        else:
            found = torch.zeros_like(x, dtype=torch.bool)
            indices = torch.zeros_like(x)
        if self.num_oov_indices == 0:
            if not bool(found.all()):
                bad = x[~found].unique()[:10].tolist()
                raise ValueError(f"When `num_oov_indices=0` all inputs should be in vocabulary, found OOV values "
                                 f"{bad}, consider setting `num_oov_indices=1`.")
            oov = indices
        elif self.num_oov_indices == 1:
            oov = torch.full_like(x, self._oov_start_index())
        elif self.oov_method == "farmhash":  # Keras's tf.strings.to_hash_bucket_fast/strong of as_string(x)
            hashes = hash_decimal(x.detach().cpu().numpy(), self.salt) % np.uint64(self.num_oov_indices)
            oov = torch.from_numpy(np.asarray(hashes).astype(np.int64)).to(x.device) + self._oov_start_index()
        else:
            oov = torch.remainder(x, self.num_oov_indices) + self._oov_start_index()
        out = torch.where(found, indices, oov)
        if self.mask_token is not None:
            mask_value = 0 if self.output_mode == "int" else -1
            out = torch.where(x == int(self.mask_token), torch.full_like(out, mask_value), out)
        return out

    def call(self, inputs):
        self._called = True
        x = inputs if isinstance(inputs, torch.Tensor) else torch.as_tensor(np.asarray(inputs))
        if x.is_floating_point():
            raise ValueError(f"{describe(self)} takes integer inputs. Received dtype {x.dtype}; cast to int64 first "
                             "(StringLookup-style string inputs are not supported by the engine).")
        scalar = x.dim() == 0
        if scalar:
            x = x.reshape(1)
        lookups = self._lookup(x)
        if self.output_mode == "int":
            return lookups[0] if scalar else lookups
        if self._frozen_vocab_size is None and not self.pad_to_max_tokens:
            raise RuntimeError(f"When using `output_mode={self.output_mode}` and `pad_to_max_tokens=False`, you must "
                               "set the layer's vocabulary before calling it. Either pass a `vocabulary` argument to "
                               "the layer, or call `adapt` with some sample data.")
        depth = self.max_tokens if self.pad_to_max_tokens else self._frozen_vocab_size
        out = self._encode(lookups, depth)
        if self.output_mode == "tf_idf":
            if self.idf_weights is None:
                raise ValueError("When `output_mode` is `'tf_idf'`, `idf_weights` must be provided.")
            out = out * self.idf_weights.to(out.device)
        return out

    def _encode(self, lookups, depth):
        dtype = backend.torch_dtype(backend.floatx())
        mode = "count" if self.output_mode == "tf_idf" else self.output_mode
        if mode == "one_hot":
            if lookups.dim() > 1 and lookups.shape[-1] == 1:
                lookups = lookups.squeeze(-1)
            valid = (lookups >= 0) & (lookups < depth)
            return torch.nn.functional.one_hot(lookups.clamp(0, depth - 1), depth).to(dtype) * valid[..., None]
        if lookups.dim() == 1:
            lookups = lookups[None] if False else lookups.unsqueeze(-1)
        valid = (lookups >= 0) & (lookups < depth)
        counts = torch.zeros(lookups.shape[:-1] + (depth,), dtype=dtype, device=lookups.device)
        counts.scatter_add_(-1, lookups.clamp(0, depth - 1), valid.to(dtype))
        return (counts > 0).to(dtype) if mode == "multi_hot" else counts

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return tuple(input_shape)
        depth = self.max_tokens if self.pad_to_max_tokens else self._frozen_vocab_size
        input_shape = tuple(input_shape)
        if self.output_mode == "one_hot":
            if len(input_shape) > 1 and input_shape[-1] == 1:
                return input_shape[:-1] + (depth,)
            return input_shape + (depth,)
        return input_shape[:-1] + (depth,)

    def compute_output_dtype(self, input_dtype):
        return "int64" if self.output_mode == "int" else backend.floatx()

    def get_config(self):
        config = super().get_config()
        config.update({
            "invert": self.invert, "max_tokens": self.max_tokens, "num_oov_indices": self.num_oov_indices,
            "oov_token": None if self.oov_token is None else int(self.oov_token),
            "mask_token": None if self.mask_token is None else int(self.mask_token),
            "output_mode": self.output_mode, "sparse": self.sparse, "pad_to_max_tokens": self.pad_to_max_tokens,
            "vocabulary_dtype": self.vocabulary_dtype, "idf_weights": self.input_idf_weights,
            "vocabulary": self.input_vocabulary if self.input_vocabulary is not None else (
                self.get_vocabulary() if len(self._tokens) else None),
            "vocabulary_size": self._frozen_vocab_size, "oov_method": self.oov_method, "salt": self.salt,
        })
        return config
