"""Who is asking: login sessions, API tokens, CSRF, throttling, and the Principal they yield."""
