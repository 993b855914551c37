"""The benchmark: figures against raw baselines measured in the same run."""
