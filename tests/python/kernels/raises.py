"""Deliberately wrong: forward raises; certify must fail it with the Python error."""
capabilities = {"name": "raises", "operations": ["forward-training", "forward-eval"],
                "dtypes": ["f32"], "layouts": ["channels_first"]}


def forward(problem, x, **unused):
    raise ValueError("deliberately broken forward for " + problem.string)
