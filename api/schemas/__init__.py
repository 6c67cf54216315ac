"""The API's bodies, one module a resource: what a client sends (``XCreate``) beside what it reads
(``X``). The class names are the OpenAPI document's component names.

Request bodies are the contract: strict (unknown fields are refused), bounded, separate from the
events. Read bodies are built from the views' rows with ``X.of(row)``.
"""
