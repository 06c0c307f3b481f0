"""The canvas: the graphics scene, items and view that show and edit a document."""
# The canvas makes thousands of void Qt calls (a big document's items come and go as the view scrolls):
# PySide6 6.12 on Python 3.11 drops a reference to None on each one, so pin the singletons as the app does
# (see visualkeras_app.qt_refs.pin_singletons) also where the canvas runs without the app (tests, tools).
from visualkeras_app.qt_refs import pin_singletons

pin_singletons()
