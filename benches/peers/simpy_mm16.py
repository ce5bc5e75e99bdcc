"""The issue-2 speed workload in SimPy: M/M/16, Poisson arrivals at 14.4/s, exponential service
of mean 1 s, one FIFO queue, 2,000,000 arrivals (the same as benches/yardstick/mm16.rs and
benches/peers/mm16.toml).

Written the way SimPy's own examples model a queue (a `Resource` with 16 slots, one process per
request), the idiomatic model a capacity planner would write.

    python benches/peers/simpy_mm16.py [ARRIVALS]
"""

import random
import sys

import simpy

LAMBDA = 14.4
MEAN_SERVICE = 1.0
SERVERS = 16


def main() -> None:
    arrivals = int(sys.argv[1]) if len(sys.argv) > 1 else 2_000_000
    rng = random.Random(1)
    env = simpy.Environment()
    servers = simpy.Resource(env, capacity=SERVERS)
    stats = {"completed": 0, "latency_sum": 0.0}

    def request(env):
        arrived = env.now
        with servers.request() as slot:
            yield slot
            yield env.timeout(rng.expovariate(1.0 / MEAN_SERVICE))
        stats["completed"] += 1
        stats["latency_sum"] += env.now - arrived

    def source(env):
        for _ in range(arrivals):
            yield env.timeout(rng.expovariate(LAMBDA))
            env.process(request(env))

    env.process(source(env))
    env.run()
    mean = stats["latency_sum"] / max(stats["completed"], 1)
    print(
        f"simpy M/M/16: {stats['completed']} completed, mean latency {mean:.4f} s "
        f"(Erlang C 1.3456 s)"
    )


if __name__ == "__main__":
    main()
