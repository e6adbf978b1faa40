"""Django and Jinja2 templates: the loops where cross-file N+1 queries happen."""
