"""narcowatch: watches online drug markets for law-enforcement drug desks and cyber units."""

__version__ = "0.1.0"
