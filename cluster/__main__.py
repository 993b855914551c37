"""`python -m cluster up|down|status|ctl`: a local 3-node RabbitMQ cluster under .run/cluster/ (make cluster-up).

`up` stops whatever an earlier run left, wipes the nodes' data, starts clinics-1@localhost… on AMQP ports
5701–5703, clusters them with `rabbitmqctl join_cluster` and prints the address list to give the services.
`down` stops them (their logs stay in .run/cluster/<node>/log). `status` shows each node and the cluster.
`ctl ARGS…` runs rabbitmqctl against the first running node, with the cluster's own Erlang cookie.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cluster.control import ROOT, Cluster, ClusterError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cluster", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("up", "down", "status", "ctl"))
    parser.add_argument("args", nargs=argparse.REMAINDER, help="ctl: rabbitmqctl arguments, for the first running node")
    parser.add_argument("--root", type=Path, default=ROOT, help="where the nodes keep config, data and logs")
    parser.add_argument("--name", default="clinics", help="node names are <name>-1@localhost …")
    parser.add_argument("--size", type=int, default=3, help="number of nodes")
    parser.add_argument("--port", type=int, default=5701, help="AMQP port of the first node (then +1 each)")
    parser.add_argument("--dist-port", type=int, default=5801, help="Erlang distribution port of the first node")
    args = parser.parse_args(argv)
    cluster = Cluster(args.root, name=args.name, size=args.size, amqp_base=args.port, dist_base=args.dist_port)
    try:
        if args.command == "up":
            seconds = cluster.up()
            status = cluster.status()
            print(f"{len(status.get('running_nodes', []))} nodes running and clustered in {seconds:.1f}s:")
            for node in cluster.nodes:
                print(f"  {node.nodename:<24} amqp://127.0.0.1:{node.amqp_port}/   logs {node.dir / 'log'}")
            print(f"\nRABBITMQ_URL={cluster.addresses()}")
        elif args.command == "ctl":
            # As rabbitmqctl on a node of this cluster (its cookie, not the machine's): RABBITMQCTL for make dev.
            print(cluster.ctl(cluster.answering(), *(a for a in args.args if a != "-q")), end="")
        elif args.command == "down":
            cluster.down()
            print("every node stopped")
        else:
            print(json.dumps(cluster.status(), indent=2))
    except ClusterError as exc:
        print(f"cluster: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
