"""The JSON Schema of clinex records (``record.schema.json``)."""
