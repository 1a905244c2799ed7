"""The HTTP API edge: FastAPI app over generator.db read functions (`selfinstruct serve`)."""
