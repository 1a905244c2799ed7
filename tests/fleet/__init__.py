"""Fleet tests: real Celery workers on a throwaway Redis, a fresh PostgreSQL database, a scripted endpoint."""
