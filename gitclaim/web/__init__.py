"""The board as an HTML page (Jinja2, escaping by default) and its small local server."""
