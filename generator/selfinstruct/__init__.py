"""The paper's pure stages (Self-Instruct, Wang et al., 2022): knobs, seeds, prompts, parsing and filters."""
