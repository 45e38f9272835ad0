"""The nginx target: one owned include file, validated by nginx, reloaded gracefully.

``target.NginxTarget`` is what the registry loads; ``render``/``read`` map the
spec model to the owned file and back; ``capabilities`` says what nginx cannot
do; ``validate``, ``deploy`` and ``reload`` put a file live safely; ``lab``
runs a private nginx for tests and benchmarks. See docs/targets/nginx.md.
"""
