"""The Functions behind ``flambeau.nn.functional``: one small class per fused op."""
