# The daemon's core: its request decoder fuzzed, and its behaviour through
# real processes (tests/integration).
users_fuzz_target(envelope fuzz_envelope.c ud_core)
