"""Model serving: deployments on Ray Serve, predictions, monitoring, A/B and batch prediction."""
