"""Listing category model and vendor alias clustering: pure functions over records."""
