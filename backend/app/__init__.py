"""The backend application package (the serving code lives in `hubship.serving`)."""
