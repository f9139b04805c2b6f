"""bnconform's own Python kernels, served by the python: kernel host.

    bnconform certify --kernel python:bnconform_kernels.torch_functional
    bnconform certify --kernel python:bnconform_kernels.torch_modules

impl/python/README.md describes the interface; each module's docstring says what
it adapts.
"""
