"""The 35-case smoke suite: one file per category (connectivity, core operations, performance, integration, error handling)."""
