"""The canvas: the graphics scene, items and view that show and edit a document."""
