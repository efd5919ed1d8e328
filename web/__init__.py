"""Investigator web app and JSON API."""
