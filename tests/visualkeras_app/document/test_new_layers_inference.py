"""Shape inference in the document for the new Keras 3 layers as the palette creates them: audio
(STFTSpectrogram, MelSpectrogram) and image preprocessing/augmentation after an RGB input; shapes and
parameter counts as the engine's own model reports them."""
import pytest

from visualkeras_app.document.convert import document_to_model
from visualkeras_app.document.defaults import default_config

from tests.visualkeras_app.document.helpers import chain

IMAGE_LAYERS = ["RandomHue", "RandomSaturation", "RandomSharpness", "RandomColorJitter", "RandomGaussianBlur",
                "Equalization", "ContrastLimitedAdaptiveHistogramEqualization", "MixUp", "CutMix", "RandomErasing",
                "RandomPerspective", "RandomElasticTransform", "RandAugment", "AugMix", "Pipeline",
                "MaxNumBoundingBoxes"]


@pytest.mark.parametrize("name", IMAGE_LAYERS)
def test_image_layer_from_the_palette_infers_its_shape(name):
    doc, (i, layer, f, d) = chain(("InputLayer", {"batch_shape": [None, 32, 32, 3]}), (name, default_config(name)),
                                  "Flatten", ("Dense", {"units": 4}))
    r = doc.result
    assert r.problems == [], r.problems
    assert r.shapes[layer] == (None, 32, 32, 3)
    model = document_to_model(doc)
    assert r.total_params == model.count_params()


@pytest.mark.parametrize("name,shape,out", [("STFTSpectrogram", [None, 1024, 1], (None, 7, 129)),
                                            ("MelSpectrogram", [None, 16000], (None, 128, 32))])
def test_audio_layer_from_the_palette_infers_shapes_and_params(name, shape, out):
    doc, (i, layer) = chain(("InputLayer", {"batch_shape": shape}), (name, default_config(name)))
    r = doc.result
    assert r.problems == [] and r.shapes[layer] == out
    model = document_to_model(doc)
    assert r.params[layer] == model.layers[-1].count_params()  # STFT's kernels are weights (2 x 256 x 1 x 129)
