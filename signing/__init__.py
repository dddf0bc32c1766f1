"""Digital signatures: PKCS#11 tokens, PAdES signing and validation, Decree 30 stamps."""
