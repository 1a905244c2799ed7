"""Pool analysis, pure: verb-noun structure, lengths, InstructMining indicators, the report."""
