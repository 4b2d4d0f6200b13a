"""An OpenAI-compatible HTTP gateway: clients set `base_url` and pay through Nightshift."""
