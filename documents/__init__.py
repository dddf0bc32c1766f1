"""Official documents and their exchange between agencies (liên thông văn bản)."""
