"""The store: jobs and models in SQLAlchemy, and the repository the API and workers use."""
