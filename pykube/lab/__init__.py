"""`pykube lab`: a multi-node cluster on one machine, each node a network namespace.

netns.py owns the host network and the per-node anchors, state.py the lab's record and
names, lifecycle.py the order of up/down/stop/start, cli.py the command line.
"""
