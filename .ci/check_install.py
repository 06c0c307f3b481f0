"""Checks an installed (not editable) visualkeras-app from a folder outside the checkout.

Run by .ci/run with the Python of a fresh environment where only the wheel (and its dependencies) is
installed, from an empty folder, with an empty HOME and no network:

    python .ci/check_install.py WHEEL

It fails (exit 1) unless the installed package finds everything it needs in itself: the templates,
the icons, MNIST (shipped with the package), and the window opens a template from its menu.
"""
import os
import subprocess
import sys
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        raise SystemExit(1)


def run(args, timeout=600):
    exe = os.path.join(os.path.dirname(sys.executable), "visualkeras-app")
    proc = subprocess.run([exe] + args, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        print(proc.stdout[-3000:], proc.stderr[-3000:], sep="\n")
    check(proc.returncode == 0, "visualkeras-app " + " ".join(args) + f" exits 0 (got {proc.returncode})")
    return proc.stdout


def main():
    import engine
    import visualkeras_app
    from visualkeras_app import resources_path

    prefix = os.path.realpath(sys.prefix)
    for mod in (engine, visualkeras_app):
        check(os.path.realpath(mod.__file__).startswith(prefix), f"{mod.__name__} is imported from the environment "
                                                                   f"({mod.__file__})")
    res = resources_path()
    check(os.path.realpath(res).startswith(prefix), f"resources come from the installed package ({res})")

    out = run(["templates"])
    for key in ("seed_mlp", "seed_cnn", "mnist_fast_cnn", "text_lstm", "residual_block"):
        check(key in out, f"'templates' lists {key}")

    from engine.datasets import mnist

    check(os.path.realpath(mnist.SPEC.packaged).startswith(prefix), "MNIST ships in the installed package")
    out = run(["train", "mnist_fast_cnn", "--epochs", "1"])
    last = out.strip().splitlines()[-1]
    check(last.startswith("test_accuracy: ") and float(last.split(": ")[1]) >= 0.98,
          f"'train mnist_fast_cnn --epochs 1' reaches 98% offline ({last})")
    cache = os.path.join(os.path.expanduser("~"), ".cache", "visualkeras-app", "datasets")
    check(not os.path.exists(cache), "nothing was downloaded into the cache")

    from PySide6.QtCore import QSettings

    from visualkeras_app.app import main_window_for_tests, make_application

    app = make_application()
    check(not app.windowIcon().isNull(), "the application has its icon (from the installed resources)")
    settings = QSettings(os.path.join(tempfile.mkdtemp(), "settings.ini"), QSettings.IniFormat)
    win = main_window_for_tests(settings=settings)
    win.resize(1200, 800)
    win.show()
    app.processEvents()
    win.template_menu.aboutToShow.emit()
    actions = {a.text().replace("&", ""): a for a in win.template_menu.actions()}
    act = next((a for text, a in actions.items() if "fast" in text.lower()), None)
    check(act is not None, f"the New from Template menu lists the templates ({sorted(actions)})")
    act.trigger()
    app.processEvents()
    layers = len(win.controller.document.nodes)
    check(layers >= 5, f"the window opened the template from its menu ({layers} layers)")
    shot = win.grab()
    check(shot.width() >= 1000 and not shot.isNull(), "the window paints")
    win.close()
    print("installed package: all checks passed")


if __name__ == "__main__":
    main()
