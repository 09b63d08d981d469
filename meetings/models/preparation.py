"""Models of the preparation of a meeting: documents, convocations, members' items."""
