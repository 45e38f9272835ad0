"""``slbsync import``: write a spec for load balancers that already exist."""
