"""Packaging glue that pyproject.toml cannot express: the repository's top-level resources/ folder
(icons, templates, styles) ships inside the wheel as the package data ``visualkeras_app.resources``,
and MNIST's four IDX files (with their license and digests) as the data of ``engine.datasets.mnist``."""
import os

from setuptools import find_packages, setup

HERE = os.path.dirname(os.path.abspath(__file__))
RES = os.path.join(HERE, "resources")

res_packages = ["visualkeras_app.resources"]
package_dir = {"visualkeras_app.resources": "resources"}
for root, dirs, _files in os.walk(RES):
    dirs[:] = [d for d in dirs if not d.startswith((".", "__"))]
    for d in dirs:
        rel = os.path.relpath(os.path.join(root, d), RES)
        name = "visualkeras_app.resources." + rel.replace(os.sep, ".")
        res_packages.append(name)
        package_dir[name] = os.path.join("resources", rel)

setup(
    packages=find_packages(include=["engine", "engine.*", "visualkeras_app", "visualkeras_app.*"]) + res_packages,
    package_dir=package_dir,
    package_data={
        **{name: ["*"] for name in res_packages},
        "engine.datasets.mnist": ["*-ubyte.gz", "LICENSE.txt", "SHA256SUMS"],
    },
    include_package_data=True,
)
