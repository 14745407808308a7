"""Web layer: one blueprint per area of the site."""
