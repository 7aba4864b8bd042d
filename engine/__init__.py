"""riskmap."""
