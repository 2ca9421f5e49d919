"""The backend: a FastAPI app serving one Hub release at a time (`create_app`)."""
