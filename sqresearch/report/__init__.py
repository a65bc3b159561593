"""Presentation: number and label formatting, tables, figures, notebook output, results.json,
caveat wording and the HTML export."""
