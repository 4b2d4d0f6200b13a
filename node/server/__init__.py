"""The worker's HTTP API."""

MAX_RESULTS = 256  # Results per `GET /v1/results`: about 0.5 MB of embeddings, in base64.
