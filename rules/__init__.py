"""Rule data of clinex (JSONL files), installed as the package ``pipeline.rules``."""
