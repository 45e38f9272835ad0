"""slbsync keeps load balancers in line with a declarative spec."""

__version__ = "0.1.0"
