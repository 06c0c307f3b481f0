"""The editor: undo commands and the controller between the canvas/panels and the document."""
