"""The ``fengqiao`` command line (``main.main``): serve, demo, token, queue, stats, rebuild,
export, verify, sweep, mode, policy and the rest, each a thin call into the layers below."""
