"""CosmoCore: RL for code LLMs from execution feedback, with affective dream replay."""

__version__ = "0.1.0"
