"""City-specific data preparation: one sibling package per city, none imported by the engine."""
