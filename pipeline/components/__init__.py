"""spaCy components of clinex (factories named ``clinex_*``)."""
