"""InsTag (Lu et al., 2023), pure: tag prompts and parsing, the four normalization stages, diversity and
complexity metrics, Algorithm-1 selection and the incremental mapping of new tags through a vocabulary.

Nothing here touches a database, a network or Celery; the embedder is passed in through its seam.
"""
