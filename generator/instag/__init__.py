"""InsTag (Lu et al., 2023), pure: tag prompts and parsing, normalization, metrics, selection, steering."""
