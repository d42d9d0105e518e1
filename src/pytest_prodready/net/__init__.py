"""What every part that talks to a service on this machine shares: the loopback rule, process groups, READY-line servers.

Load runs, the canary, the wait-for-ready probes and the reference app all
use it; none of it is about load.
"""
