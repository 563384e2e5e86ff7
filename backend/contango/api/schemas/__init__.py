"""Request and response models of the API, one module per area (the OpenAPI schema is built
from them, and the web app's client from that schema)."""
