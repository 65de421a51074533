"""Text from a model, a character at a time with its state carried (sampling.py), and a recurrent model
drafting for Romeo, with Romeo's distribution (speculative.py)."""
