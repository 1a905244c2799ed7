"""Pool analysis, pure: verb–noun structure, length histograms, InstructMining indicators, the report.

Nothing here touches the database, an LLM endpoint or Celery: records in, records out. The CLI and
the repository functions in ``generator.db`` feed it and store what it returns.
"""
