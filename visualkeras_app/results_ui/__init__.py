"""Views of a trained model: test results, a digit pad and feature maps (hosted in the "Results" dock).

Each view is a plain ``QWidget`` built with ``View(parent=None)`` and fed with
``set_model(model, prepared_or_dataset, class_names)``; ``ResultsView`` also takes
``set_results(results)`` (a ``visualkeras_app.training.results.Results``).
"""
from visualkeras_app.results_ui.draw_pad import DrawPad
from visualkeras_app.results_ui.feature_maps import FeatureMapView
from visualkeras_app.results_ui.results_view import ResultsView

__all__ = ["DrawPad", "FeatureMapView", "ResultsView"]
