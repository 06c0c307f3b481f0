"""The QApplication as the app makes it: names for QSettings and the desktop, and the app's icon."""
from visualkeras_app.app import make_application


def test_the_application_has_its_name_and_icon(qapp):
    app = make_application()
    assert app.applicationName() == "visualkeras-app"
    icon = app.windowIcon()
    assert not icon.isNull()
    image = icon.pixmap(64, 64).toImage()
    assert image.width() == 64
    # The icon's dark blue square, drawn from resources/icons/visualkeras-app.svg (not a blank default).
    colour = image.pixelColor(6, 32)
    assert colour.alpha() == 255 and colour.blue() > colour.red()
