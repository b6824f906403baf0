"""Unit tests of the harness's pure parts (and the RESP client against a real redis-server):
`cd chaos && python3 -m unittest`."""
