"""Bad input: no forward function."""
capabilities = {"name": "no-forward", "operations": ["forward-training"], "dtypes": ["f32"],
                "layouts": ["channels_first"]}
