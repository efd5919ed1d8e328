"""Weekly trend export for the drug desk."""
