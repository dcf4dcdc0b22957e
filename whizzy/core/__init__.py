"""The foundation: errors, settings, logs, formatting, JSON values.

Imports nothing else of the project.
"""
