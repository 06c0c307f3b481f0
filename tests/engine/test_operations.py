"""Functional.operations lists every node of the graph as Keras 3's does: layers and the ops called on
symbolic tensors (keras.ops.add, x + y, ops.relu), in the same order, with the same classes and names."""
import engine


def _model(K):
    a, b = K.Input((3,)), K.Input((3,))
    x = K.layers.Dense(2)(K.ops.add(a, b))
    return K.Model([a, b], x + K.ops.relu(x))


def test_operations_list_op_nodes_as_keras(keras):
    # Keras's name counters are per process (the engine's are reset per test); free_memory=False: only the
    # counters, without the gc.collect() that takes 0.3 s late in a test session.
    keras.backend.clear_session(free_memory=False)
    ours, theirs = _model(engine), _model(keras)
    listed = [(type(op).__name__, op.name) for op in ours.operations]
    assert listed == [(type(op).__name__, op.name) for op in theirs.operations]
    assert listed == [("InputLayer", "input_layer"), ("InputLayer", "input_layer_1"), ("Add", "add"),
                      ("Dense", "dense"), ("Relu", "relu"), ("Add", "add_1")]
    # Keras's `layers` leaves the ops out.
    assert [type(l).__name__ for l in theirs.layers] == ["InputLayer", "InputLayer", "Dense"]
