"""visualkeras-app: build, train and export Keras-compatible networks on a canvas."""
__version__ = "0.1.0"


def resources_path() -> str:
    """The folder with the app's data files (``templates/``...).

    In a source checkout that is ``resources/`` at the repository root; an installed wheel carries the
    same files as package data in ``visualkeras_app/resources/``, which is looked at first.
    """
    import os

    here = os.path.dirname(os.path.abspath(__file__))
    packaged = os.path.join(here, "resources")
    if os.path.isdir(packaged):
        return packaged
    return os.path.join(os.path.dirname(here), "resources")
