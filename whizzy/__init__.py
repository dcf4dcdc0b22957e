"""Whizzy: the layers around the agents.

Foundation, warehouse access, data in and build, the assistant facade and the front ends
(CLI, chat, bench). Importing it changes nothing.
"""

__version__ = "0.1.0"
