"""The shipped emoannot weights (safetensors + JSON model cards); see MODEL_CARD.md."""
