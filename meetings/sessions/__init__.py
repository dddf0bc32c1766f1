"""Council sessions (kỳ họp): agenda, invitations, attendance, speakers and votes (biểu quyết)."""
