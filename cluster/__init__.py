"""A local RabbitMQ cluster the project starts itself (`python -m cluster up|down|status`), and its fault API."""

from cluster.control import Cluster, ClusterError
from cluster.node import Node

__all__ = ["Cluster", "ClusterError", "Node"]
