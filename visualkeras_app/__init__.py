"""visualkeras-app: build, train and export Keras-compatible networks on a canvas."""
__version__ = "0.1.0"
