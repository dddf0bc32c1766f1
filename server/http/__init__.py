"""HTTP plumbing shared by every package: app keys, errors as problem+json, JSON I/O, OpenAPI."""
