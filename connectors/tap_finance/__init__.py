"""Singer tap for the finance / credit-rating REST API."""
