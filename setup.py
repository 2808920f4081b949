"""Declares the classifier's C extension; everything else is in pyproject.toml.

LLR_NO_EXTENSIONS=1 skips the extension (the pure-Python reference is used).
LLR_SANITIZE=1 builds it with AddressSanitizer and UBSan for the
differential tests.
"""

import os
from pathlib import Path

from setuptools import Extension, setup

ext_modules = []
if os.environ.get("LLR_NO_EXTENSIONS") != "1":
    compile_args = ["-O2", "-std=c11", "-Wall", "-Wextra", "-Werror"]
    link_args: list[str] = []
    if os.environ.get("LLR_SANITIZE") == "1":
        san = ["-fsanitize=address,undefined", "-fno-sanitize-recover=undefined"]
        san += ["-fno-omit-frame-pointer", "-O1"]
        compile_args += san
        link_args += san
    ext_modules.append(
        Extension(
            "router.classify._native",
            sources=sorted(str(p) for p in Path("classifier_ext").glob("*.c")),
            depends=sorted(str(p) for p in Path("classifier_ext").glob("*.h")),
            extra_compile_args=compile_args,
            extra_link_args=link_args,
        )
    )

setup(ext_modules=ext_modules)
