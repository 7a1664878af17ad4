"""Training: state pytree, the pure jitted step, the on-device epoch runner, and the loop."""
