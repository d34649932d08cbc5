"""Live run events and wake-ups."""
