"""Export builders, pure: formats, dataset card, splits, safe output writing."""
