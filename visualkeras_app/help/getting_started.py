"""The Getting Started page (Help ▸ Getting Started): a first model in five steps, naming the menus and panels as
the window shows them."""

GETTING_STARTED_HTML = """
<h2>Getting started</h2>
<p>visualkeras-app builds a neural network on a canvas, shows every tensor shape as you go, trains it, and
exports Keras files, diagrams and code. Five steps to a first trained model:</p>

<h3>1. Start a model</h3>
<p><b>File ▸ New from Template</b> opens a ready model (the <i>Fast MNIST CNN</i> trains to 99% in one
epoch), or start empty and drag layers from the <b>Layers</b> panel on the left onto the canvas (a double-click
adds the layer below the selected one, connected). <b>File ▸ Open</b> reads Keras files
(<code>.keras</code>, <code>.h5</code>, <code>.json</code>) and projects (<code>.vkproj</code>).</p>

<h3>2. Connect and set the layers</h3>
<p>Drag from a layer's output port (bottom) to another's input port (top). Click a layer to edit its arguments
in the <b>Inspector</b>; press <b>F1</b> on a layer, or on a layer in the Layers panel, for its documentation:
what it does, its arguments and its input and output shapes. Each layer card shows its output shape and
parameter count; the <b>Problems</b> panel lists what keeps the graph from being a model, and the
<b>Summary</b> and <b>Code</b> panels show it as Keras would.</p>

<h3>3. Train</h3>
<p><b>Train ▸ Train on MNIST</b> (Ctrl+T) trains the model with the one-click recipe; the <b>Training</b>
panel sets the data set (MNIST, Fashion-MNIST, your own <code>.npz</code>/<code>.csv</code>), optimizer,
learning rate, epochs and batch size. The plots show loss, accuracy and the learning rate per batch and per
epoch: pick the x axis (step, epoch, wall time), the smoothing, log scale, and hover for values; Export saves them
as PNG, SVG or CSV. When the model does not fit the data set, the panel says so before training, with a
one-click fix.</p>

<h3>4. See the results</h3>
<p>After a run, the <b>Results</b> panel shows the confusion matrix, per-class accuracy and the misclassified
test images; <b>Draw a digit</b> lets you draw and see the prediction; <b>Feature maps</b> shows what each
layer sees. Every run is listed in <b>Runs</b>: tick runs to overlay their curves.</p>

<h3>5. Save and export</h3>
<p><b>File ▸ Save</b> keeps the model, its trained weights and its runs (curves, settings, test results) in a
project, reopened as you left it. <b>File ▸ Export</b> writes <code>.keras</code>/<code>.h5</code> files Keras 3
loads, a Python script, a PyTorch module, ONNX, a diagram, or a training script for a server.</p>

<p style='color:#666'>Help ▸ Keyboard Shortcuts (Ctrl+/) lists every command with its keys.</p>
"""
