"""Exchange between Liên Thông servers: a durable outbox with retries, deduplication by message
id, signed receipts by the receiving server's seal key, and statuses travelling back."""
