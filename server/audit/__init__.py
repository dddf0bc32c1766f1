"""The append-only, hash-chained audit log of security-relevant acts."""
