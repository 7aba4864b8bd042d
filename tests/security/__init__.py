"""Security tests: hostile SQL, hostile text in exports and in the app."""
