"""The shipped pretrained weights, one .safetensors file per model family (described in README.md).

Data only: engine/shipped.py finds this folder without importing it.
"""
